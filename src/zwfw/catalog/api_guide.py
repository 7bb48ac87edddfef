"""Public guide API: ``GET /api/v1/catalog/items/{implementation_code}/guide``."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from zwfw.catalog.guide import ItemGuide, get_guide

router = Router(tags=["catalog"])


class GuideQuery(Schema):
    version: int | None = Field(
        None,
        ge=1,
        le=2_147_483_647,  # the column's range: larger numbers would overflow the query
        description="an older published version (versions are public history)",
    )


@router.get(
    "/items/{implementation_code}/guide",
    response=ItemGuide,
    summary="The guide (办事指南) of a published item",
    description=(
        "Every element of the item's current published version (or of `version`) in the "
        "standard section order, with Chinese labels and code labels resolved. Items that are "
        "not published (draft, suspended, cancelled) answer 404 `catalog.item_unknown`."
    ),
)
def item_guide(
    request: HttpRequest, implementation_code: str, query: Query[GuideQuery]
) -> ItemGuide:
    return get_guide(implementation_code, version=query.version)
