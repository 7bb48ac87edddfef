"""``zwfw case_sweep``: fire due BPMN timers and remind handlers of due steps (cron or --loop)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zwfw.cases.services import remind_due_tasks


class Command(BaseCommand):
    help = (
        "Fire due BPMN timer events of open cases and remind the handlers of steps whose time "
        "limit ends today or has passed (one reminder per step and day). Run it daily from "
        "cron, or keep it running with --loop beside `zwfw worker`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep sweeping until stopped")
        parser.add_argument(
            "--interval", type=float, default=3600.0, help="seconds between sweeps (--loop)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            while True:
                sent = remind_due_tasks()
                self.stdout.write(f"已发送提醒 reminders queued: {sent}")
                if not options["loop"]:
                    return
                time.sleep(options["interval"])
        except KeyboardInterrupt:
            self.stdout.write("stopped")
