"""Public pages of the portal: 我要查 (search, browse, case progress), 我要看 / 我要问 / 我要评.

Every page reads without JavaScript; htmx only swaps the search results in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from zwfw.catalog import search
from zwfw.catalog.models import Item, ItemStatus, LifeEvent
from zwfw.core.errors import NotFound, ValidationError

#: Filters of the search page, in the order of the facet panel, with their headings.
FACETS: tuple[tuple[str, str], ...] = (
    ("online_depth", "网办深度"),
    ("item_type", "事项类型"),
    ("target", "服务对象"),
    ("theme_person", "个人主题"),
    ("theme_legal", "法人主题"),
    ("level", "行使层级"),
    ("department", "实施部门"),
    ("life_event", "人生事件"),
)
FILTER_NAMES = (*(name for name, _ in FACETS), "division", "min_online_depth")
BROWSE_LABELS: dict[str, str] = {
    "theme_person": "按个人主题",
    "theme_legal": "按法人主题",
    "department": "按部门",
    "target": "按服务对象",
    "level": "按行使层级",
    "division": "按行政区划",
    "life_event": "按人生事件",
    "item_type": "按事项类型",
    "online_depth": "按网办深度",
}
#: Counts per classification change only when items are published: cached ten minutes, so
#: that the home page does not group 100,000 items (about 150 ms a dimension) on every request.
BROWSE_CACHE_SECONDS = 600


def browse_counts(dimension: str) -> list[search.FacetCount]:
    """Published items per value of ``dimension`` (``division`` included), cached."""
    key = f"portal:browse:{dimension}"
    found = cache.get(key)
    if found is None:
        if dimension == "division":
            rows = (
                Item.objects.filter(status=ItemStatus.PUBLISHED)
                .values("division__code", "division__name")
                .annotate(n=Count("id"))
                .order_by("division__code")
            )
            found = [
                search.FacetCount(r["division__code"], r["division__name"], r["n"]) for r in rows
            ]
        else:
            found = search.browse(dimension)
        cache.set(key, found, BROWSE_CACHE_SECONDS)
    return list(found)


@dataclass(frozen=True)
class FacetLink:
    code: str
    label: str
    count: int
    url: str
    current: bool


@dataclass(frozen=True)
class FacetGroup:
    name: str
    heading: str
    links: list[FacetLink]


def _query(base: str, params: dict[str, str], **changes: str | None) -> str:
    """The search page's URL (``base``, reversed once per request: a results page links a
    hundred facet values) with ``params`` changed."""
    merged = {k: v for k, v in {**params, **changes}.items() if v}
    return base + ("?" + urlencode(merged) if merged else "")


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """``/search/?q=…&<filter>=…``: results best first with highlights, facet counts that
    narrow the search, keyset pages. A bad filter or query says so (400), never a 500."""
    q = (request.GET.get("q") or "").strip()
    raw = {name: (request.GET.get(name) or "").strip() for name in FILTER_NAMES}
    params = {"q": q, **{k: v for k, v in raw.items() if v}}
    context: dict[str, Any] = {"q": q, "params": params, "result": None, "error": None}
    base = reverse("portal:search")
    status = 200
    try:
        filters = search.parse_filters(**raw)
        result = search.search_items(
            q or None, filters, cursor=request.GET.get("cursor") or None, limit=search.PAGE_SIZE
        )
    except ValidationError as exc:
        context["error"] = exc
        status = 400
    else:
        context["result"] = result
        context["facet_groups"] = [
            FacetGroup(
                name,
                heading,
                [
                    FacetLink(
                        f.code,
                        f.label,
                        f.count,
                        _query(base, params, **{name: None if raw[name] == f.code else f.code}),
                        raw[name] == f.code,
                    )
                    for f in result.facets.get(name, [])
                    if f.count or raw[name] == f.code
                ],
            )
            for name, heading in FACETS
        ]
        labels = {(n, f.code): f.label for n, found in result.facets.items() for f in found}
        context["active_filters"] = [
            (name, labels.get((name, value), value), _query(base, params, **{name: None}))
            for name, value in raw.items()
            if value
        ]
        if result.next_cursor:
            context["next_url"] = _query(base, params, cursor=result.next_cursor)
        context["is_first_page"] = not request.GET.get("cursor")
        context["first_url"] = _query(base, params)
    template = "portal/_results.html" if request.headers.get("HX-Request") else "portal/search.html"
    return render(request, template, context, status=status)


@require_GET
def browse_page(request: HttpRequest, dimension: str = "theme_person") -> HttpResponse:
    """``/browse/<dimension>/``: every value of a classification with its item count, each a
    link to the search filtered by it."""
    if dimension not in BROWSE_LABELS:
        raise Http404("unknown dimension")
    try:
        counts = browse_counts(dimension)
    except NotFound as exc:  # pragma: no cover — BROWSE_LABELS lists known dimensions only
        raise Http404(exc.message) from None
    return render(
        request,
        "portal/browse.html",
        {
            "dimension": dimension,
            "dimensions": BROWSE_LABELS.items(),
            "heading": BROWSE_LABELS[dimension],
            "values": counts,
            "search_url": reverse("portal:search"),
        },
    )


@require_http_methods(["GET", "POST"])
def progress_page(request: HttpRequest) -> HttpResponse:
    """``/progress/``: 办件进度查询 by case number + query password (POST, so neither lands in
    logs or history). The same message for an unknown number and a wrong password."""
    from zwfw.cases import services
    from zwfw.portal import presenters

    context: dict[str, Any] = {"number": "", "case": None, "error": None}
    status = 200
    if request.method == "POST":
        number = (request.POST.get("number") or "").strip()[:32]
        context["number"] = number
        try:
            case = services.check_query_password(number, request.POST.get("password") or "")
        except NotFound as exc:
            context["error"] = exc
            status = 400
        else:
            context["case"] = case
            context["applicant"] = services.masked_applicant(case)
            context["timeline"] = presenters.public_timeline(case)
            context["status_badge"] = presenters.status_badge(case.status)
    return render(request, "portal/progress.html", context, status=status)


@require_GET
def news_page(request: HttpRequest) -> HttpResponse:
    """我要看: news, policies and notices are published by staff in a later issue."""
    return render(request, "portal/news.html")


@require_GET
def ask_page(request: HttpRequest) -> HttpResponse:
    """我要问: consultations come later; the FAQ of each guide is searchable now."""
    return render(request, "portal/ask.html")


@require_GET
def rate_page(request: HttpRequest) -> HttpResponse:
    """我要评: 好差评 comes with the ratings issue; until then, where to rate."""
    return render(request, "portal/rate.html")


def life_events() -> dict[str, list[LifeEvent]]:
    key = "portal:life_events"
    found = cache.get(key)
    if found is None:
        events = list(LifeEvent.objects.order_by("audience", "order", "code"))
        found = {
            "person": [e for e in events if e.audience == LifeEvent.Audience.PERSON],
            "company": [e for e in events if e.audience == LifeEvent.Audience.COMPANY],
        }
        cache.set(key, found, BROWSE_CACHE_SECONDS)
    return dict(found)
