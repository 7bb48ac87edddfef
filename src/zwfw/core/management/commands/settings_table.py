"""``zwfw settings_table``: the README's configuration table, from the declared settings."""

from typing import Any

from django.core.management.base import BaseCommand

from zwfw.settings.env import markdown_table


class Command(BaseCommand):
    help = "Print the environment variables the platform reads, as a Markdown table."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(markdown_table())
