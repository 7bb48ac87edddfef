"""``zwfw seed_calendar``: load the shipped State Council holiday schedules."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zwfw.core.calendar import seed_calendar, seed_data
from zwfw.core.errors import ZwfwError


class Command(BaseCommand):
    help = (
        "Load the shipped holiday schedules (holidays and swapped working days) into the "
        "calendar table. Safe to re-run: dates staff have edited or removed are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year",
            type=int,
            action="append",
            dest="years",
            help="only this year (repeatable); default: every shipped year",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        years = options["years"]
        try:
            changed = seed_calendar(years)
        except ZwfwError as error:
            raise CommandError(f"{error.message} ({error.code})") from error
        shown = years or sorted(seed_data())
        self.stdout.write(
            f"节假日数据已载入 calendar seeded for {', '.join(map(str, shown))}: "
            f"{changed} rows created or updated"
        )
