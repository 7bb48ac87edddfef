"""``zwfw worker``: the durable background task worker (django-tasks database backend)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the background task worker (Ctrl-C to stop; safe to run several)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="*", help="queues to serve (default: all)")
        parser.add_argument("--interval", type=float, default=1.0, help="poll interval, seconds")
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")

    def handle(self, *args: Any, **options: Any) -> None:
        extra = ["--batch"] if options["batch"] else []
        call_command(
            "db_worker",
            "--queue-name",
            options["queue_name"],
            "--interval",
            str(options["interval"]),
            *extra,
        )
