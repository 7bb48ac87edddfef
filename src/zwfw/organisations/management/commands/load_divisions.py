"""``zwfw load_divisions``: copy the shipped administrative divisions into the database."""

from typing import Any

from django.core.management.base import BaseCommand

from zwfw.organisations.divisions import load_divisions


class Command(BaseCommand):
    help = (
        "Load the administrative divisions shipped with zwfw (2026 list, plus 2023-only codes "
        "as not current) into the Division table. Idempotent: a second run changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = load_divisions()
        self.stdout.write(
            f"divisions: {result.created} created, {result.updated} updated, "
            f"{result.retired} retired, {result.unchanged} unchanged "
            f"({result.total} in the data) in {result.seconds:.2f} s"
        )
