"""``zwfw seed_synonyms``: load the default search synonym groups."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from zwfw.catalog.synonyms import seed_synonyms


class Command(BaseCommand):
    help = (
        "Add the default search synonyms (社保/社会保险/社保卡, 医保/医疗保险, "
        "身份证/居民身份证 …). Safe to re-run: terms staff have added, moved or removed "
        "elsewhere are kept."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        added = seed_synonyms()
        self.stdout.write(f"检索同义词已载入 search synonyms seeded: {added} terms added")
