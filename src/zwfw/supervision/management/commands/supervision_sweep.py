"""``zwfw supervision_sweep [--full] [--loop]``: run the 电子监察 rules.

Without ``--loop``: one pass, then exit (cron). With ``--loop``: a pass every ``--interval``
seconds (``make run`` starts it beside the web server); the first pass of each day is a full
one whatever the flag says. ``--enqueue`` hands the pass to the task worker instead.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the supervision rules (电子监察) once, or every --interval seconds with --loop."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="a full pass over all cases")
        parser.add_argument("--loop", action="store_true", help="run until stopped")
        parser.add_argument("--interval", type=int, default=60, help="seconds between passes")
        parser.add_argument(
            "--enqueue", action="store_true", help="enqueue run_rules for the task worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from zwfw.supervision import engine, tasks

        interval = max(5, int(options["interval"]))
        full = bool(options["full"])
        while True:
            if options["enqueue"]:
                result = tasks.run_rules.enqueue(full=full)
                self.stdout.write(f"enqueued supervision run {result.id}")
            else:
                summary = engine.run_rules(full=full)
                self.stdout.write(json.dumps(summary, ensure_ascii=False))
            if not options["loop"]:
                return
            full = False  # later passes are incremental (a new day still forces a full one)
            time.sleep(interval)
