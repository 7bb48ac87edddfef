"""Public search and browse API of the catalogue (我要查): no authentication, published only."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema

from zwfw.catalog import search

router = Router(tags=["catalog"])


class SearchParams(Schema):
    q: str | None = None
    item_type: str | None = None
    theme_person: str | None = None
    theme_legal: str | None = None
    target: str | None = None
    level: str | None = None
    department: str | None = None
    division: str | None = None
    online_depth: str | None = None
    min_online_depth: str | None = None
    life_event: str | None = None
    cursor: str | None = None
    limit: str | None = None
    facets: bool = True


class DepartmentRef(Schema):
    id: int
    name: str


class SearchItemOut(Schema):
    id: int
    name: str
    name_highlight: str
    implementation_code: str
    item_type: str
    item_type_label: str
    department: DepartmentRef
    division_code: str
    online_depth: str
    promised_days: int
    snippet: str


class FacetCountOut(Schema):
    code: str
    label: str
    count: int


class SearchOut(Schema):
    items: list[SearchItemOut]
    facets: dict[str, list[FacetCountOut]]
    facets_exact: bool
    total: int | None
    next: str | None


class BrowseOut(Schema):
    dimension: str
    items: list[FacetCountOut]


@router.get(
    "/items",
    response=SearchOut,
    summary="Search published items (我要查)",
    description=(
        "Chinese full-text search over published items: 1- and 2-character queries, several "
        "words, pinyin (`sb`, `shebao`) and synonyms. Order: items whose name contains every "
        "word (the exact name first, then shorter names), then matches in keywords, then in "
        "the guide text; ties by id. `name_highlight` and `snippet` are HTML with `<mark>` "
        "around matches (text escaped). Facets count the whole result; `next` is the cursor "
        "of the next page (pass `facets=false` when paging to skip the counts). Past "
        f"{search.FACET_EXACT_LIMIT:,} matches facet counts are estimated from a sample "
        "(`facets_exact` false); `total` is always exact."
    ),
)
def search_items(request: HttpRequest, params: Query[SearchParams]) -> dict:
    filters = search.parse_filters(
        item_type=params.item_type,
        theme_person=params.theme_person,
        theme_legal=params.theme_legal,
        target=params.target,
        level=params.level,
        department=params.department,
        division=params.division,
        online_depth=params.online_depth,
        min_online_depth=params.min_online_depth,
        life_event=params.life_event,
    )
    result = search.search_items(
        params.q,
        filters,
        cursor=params.cursor,
        limit=search.parse_limit(params.limit),
        with_facets=params.facets,
    )
    return {
        "items": [
            {
                "id": hit.id,
                "name": hit.name,
                "name_highlight": hit.name_highlight,
                "implementation_code": hit.implementation_code,
                "item_type": hit.item_type,
                "item_type_label": hit.item_type_label,
                "department": {"id": hit.department_id, "name": hit.department_name},
                "division_code": hit.division_code,
                "online_depth": hit.online_depth,
                "promised_days": hit.promised_days,
                "snippet": hit.snippet,
            }
            for hit in result.hits
        ],
        "facets": {
            name: [{"code": f.code, "label": f.label, "count": f.count} for f in values]
            for name, values in result.facets.items()
        },
        "facets_exact": result.facets_exact,
        "total": result.total,
        "next": result.next_cursor,
    }


@router.get(
    "/browse/{dimension}",
    response=BrowseOut,
    summary="Count published items by theme, department, target, level or life event",
)
def browse(request: HttpRequest, dimension: str) -> dict:
    counts = search.browse(dimension)
    return {
        "dimension": dimension,
        "items": [{"code": c.code, "label": c.label, "count": c.count} for c in counts],
    }
