"""``zwfw indicators_refresh``: rebuild the indicator rollups; store last month's snapshots."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zwfw.indicators import rollups, services


class Command(BaseCommand):
    help = (
        "Recompute the per-day indicator rollups (all days, or --days back from today) and, "
        "with --snapshot, store last month's snapshots (node and each department). Run it "
        "nightly from cron, or keep it running with --loop; reads refresh recent days by "
        "themselves when the rollups are older than ZWFW_INDICATORS_ROLLUP_MAX_AGE."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None, help="only the last N days")
        parser.add_argument("--snapshot", action="store_true", help="store last month's snapshots")
        parser.add_argument("--loop", action="store_true", help="keep refreshing until stopped")
        parser.add_argument("--interval", type=float, default=300.0, help="seconds (--loop)")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and not 0 <= days <= 3660:
            raise CommandError("--days must be 0–3660")
        try:
            while True:
                started = time.perf_counter()
                day_from = None
                if days is not None:
                    from django.utils import timezone

                    day_from = timezone.localdate() - dt.timedelta(days=days)
                rows = rollups.refresh(day_from)
                self.stdout.write(
                    f"指标汇总已刷新 rollup rows: {rows} ({time.perf_counter() - started:.1f} s)"
                )
                if options["snapshot"]:
                    self.stdout.write(
                        f"指标快照 snapshots stored: {services.snapshot_last_month()}"
                    )
                if not options["loop"]:
                    return
                time.sleep(options["interval"])
        except KeyboardInterrupt:
            self.stdout.write("stopped")
