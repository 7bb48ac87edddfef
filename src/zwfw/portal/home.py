"""What the home page shows besides the search box: themes, life events, popular items."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from zwfw.catalog.models import Item, ItemStatus

POPULAR_SHOWN = 8
POPULAR_WINDOW = dt.timedelta(days=90)
CACHE_SECONDS = 60
CANDIDATES = 200


def _family(name: str) -> str:
    return name.split("（", 1)[0]


@dataclass(frozen=True)
class PopularItem:
    code: str
    name: str
    department: str


def popular_items() -> list[PopularItem]:
    """The items applied for most in the last 90 days; on a quiet node, the first items that
    can be handled fully online. Cached a minute (counting cases is not for every visit)."""
    found = cache.get("portal:popular")
    if found is not None:
        return list(found)
    from zwfw.cases.models import Case

    since = timezone.now() - POPULAR_WINDOW
    codes = [
        row["implementation_code"]
        for row in Case.objects.filter(created_at__gte=since)
        .values("implementation_code")
        .annotate(n=Count("id"))
        .order_by("-n", "implementation_code")[:POPULAR_SHOWN]
    ]
    items = {
        item.implementation_code: item
        for item in Item.objects.filter(
            implementation_code__in=codes, status=ItemStatus.PUBLISHED
        ).select_related("department")
    }
    chosen = [items[c] for c in codes if c in items]
    if len(chosen) < POPULAR_SHOWN:
        # One item per family: 户口迁移（夫妻投靠） and 户口迁移（购房迁入） count as one.
        families = {_family(i.name) for i in chosen}
        candidates = (
            Item.objects.filter(status=ItemStatus.PUBLISHED, online_depth="IV")
            .exclude(implementation_code__in=[i.implementation_code for i in chosen])
            .select_related("department")
            .order_by("id")[:CANDIDATES]
        )
        for item in candidates:
            if len(chosen) == POPULAR_SHOWN:
                break
            if _family(item.name) not in families:
                families.add(_family(item.name))
                chosen.append(item)
    found = [PopularItem(i.implementation_code, i.name, i.department.name) for i in chosen]
    cache.set("portal:popular", found, CACHE_SECONDS)
    return found
