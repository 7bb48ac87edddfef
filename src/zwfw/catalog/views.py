"""Public catalogue pages: the guide (办事指南) of an item and the catalogue index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from zwfw.catalog.guide import get_guide, item_type_label
from zwfw.catalog.models import Item, ItemStatus
from zwfw.core import codes
from zwfw.core.errors import NotFound, ValidationError
from zwfw.core.pagination import paginate
from zwfw.organisations.models import Department

PAGE_SIZE = 50


def _positive_int(raw: str | None) -> int | None:
    """A positive integer from a query string, or None (bad values are treated as absent)."""
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 9 and int(raw) > 0:
        return int(raw)
    return None


@require_GET
def item_guide(request: HttpRequest, implementation_code: str) -> HttpResponse:
    """``/items/<code>/``: the guide of the current version, or ``?version=N``."""
    raw_version = request.GET.get("version")
    version = _positive_int(raw_version)
    if raw_version and version is None:
        raise Http404("no such version")
    try:
        guide = _cached_guide(implementation_code, version)
    except NotFound as exc:
        raise Http404(exc.message) from None
    return render(
        request,
        "catalog/guide.html",
        {"guide": guide, "version_numbers": range(1, guide.latest_version + 1)},
    )


#: Building a guide validates the whole content (about 10 ms); versions never change, so the
#: current guide is cached under the item's current version, its content hash, status and
#: department, which any publication, suspension, withdrawal or transfer changes. Only
#: "latest version" may lag behind a new unpublished draft by this long. Older versions
#: (``?version=N``) are rare and built each time.
GUIDE_CACHE_SECONDS = 300


def _cached_guide(code: str, version: int | None) -> Any:
    state = (
        Item.objects.filter(implementation_code=code[:64])
        .values_list(
            "pk", "current_version_id", "current_version__content_hash", "status", "department_id"
        )
        .first()
    )
    if state is None or version is not None:
        return get_guide(code, version=version)  # raises NotFound with its message
    key = "catalog:guide:" + ":".join(str(part) for part in state)
    guide = cache.get(key)
    if guide is None:
        guide = get_guide(code, version=version)
        cache.set(key, guide, GUIDE_CACHE_SECONDS)
    return guide


@dataclass(frozen=True)
class IndexRow:
    code: str
    name: str
    department: Department
    item_type: str
    online_depth: str


@require_GET
def item_index(request: HttpRequest) -> HttpResponse:
    """``/items/``: published items by department, 50 a page (keyset on department, id)."""
    department_id = _positive_int(request.GET.get("department"))
    cursor = request.GET.get("cursor") or None
    queryset = Item.objects.filter(status=ItemStatus.PUBLISHED).select_related("department")
    if department_id is not None:
        queryset = queryset.filter(department_id=department_id)
    try:
        page = paginate(
            queryset.only("implementation_code", "name", "item_type", "online_depth", "department"),
            ("department_id", "id"),
            cursor,
            PAGE_SIZE,
        )
    except ValidationError:  # a tampered cursor: start again rather than fail
        cursor = None
        page = paginate(queryset, ("department_id", "id"), None, PAGE_SIZE)
    rows = [
        IndexRow(
            code=item.implementation_code,
            name=item.name,
            department=item.department,
            item_type=item_type_label(item.item_type),
            online_depth=codes.label(codes.OnlineDepth, item.online_depth, default=""),
        )
        for item in page.items
    ]
    departments = Department.objects.filter(
        pk__in=Item.objects.filter(status=ItemStatus.PUBLISHED).values("department_id")
    ).order_by("division_id", "name")
    base = {"department": department_id} if department_id else {}
    return render(
        request,
        "catalog/index.html",
        {
            "rows": rows,
            "departments": departments,
            "department_id": department_id,
            "is_first_page": cursor is None,
            "first_query": urlencode(base),
            "next_query": urlencode({**base, "cursor": page.next_cursor})
            if page.next_cursor
            else "",
        },
    )
