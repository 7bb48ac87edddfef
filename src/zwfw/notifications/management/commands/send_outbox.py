"""``zwfw send_outbox``: deliver due outbox messages once, or keep sweeping with ``--loop``."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zwfw.notifications.services import deliver_due


class Command(BaseCommand):
    help = (
        "Deliver every due notification (pending, or retrying whose time has come). "
        "With --loop, keep sweeping: run it beside `zwfw worker` so retries and messages "
        "whose task was lost are sent. Safe to run several at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="keep sweeping until stopped")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="seconds between sweeps (--loop)"
        )
        parser.add_argument("--limit", type=int, default=100, help="messages per sweep")
        parser.add_argument(
            "--max-sweeps", type=int, default=0, help="stop after this many sweeps (0: never)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit = max(1, options["limit"])
        sweeps = 0
        try:
            while True:
                attempted = deliver_due(limit)
                sweeps += 1
                if attempted or not options["loop"]:
                    self.stdout.write(f"已处理 attempted {attempted} notification(s)")
                if not options["loop"] or sweeps == options["max_sweeps"]:
                    return
                if attempted < limit:  # a full batch means more may be waiting: no pause
                    time.sleep(options["interval"])
        except KeyboardInterrupt:
            self.stdout.write("stopped")
