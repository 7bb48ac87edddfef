"""``zwfw rebuild_search_index``: rebuild every item's search document."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from zwfw.catalog.models import Item
from zwfw.catalog.search import index_items


class Command(BaseCommand):
    help = (
        "Rebuild the search documents of all items (after a change of tokenisation, or to "
        "repair the index). Published items are indexed, others removed; one transaction per "
        "batch, so searches keep working meanwhile."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=1000, help="items per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        batch = max(1, options["batch"])
        ids = list(Item.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), batch):
            index_items(Item(pk=pk) for pk in ids[start : start + batch])
        self.stdout.write(f"检索索引已重建 search index rebuilt: {len(ids)} items")
