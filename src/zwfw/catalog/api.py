"""Catalogue management API: change requests, review, versions, diffs, lineage.

Reading published items' versions, diffs and lineage is public (they are public history).
Everything else needs a signed-in staff member; what each one sees and may do is decided by
the selectors and services (officers: their departments; reviewers: the review queue).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth

from zwfw.catalog import selectors, services
from zwfw.catalog.content import ItemContent
from zwfw.catalog.diff import diff
from zwfw.catalog.models import ChangeRequest, Item, ItemLineage
from zwfw.core import idempotency
from zwfw.core.errors import NotFound, ValidationError
from zwfw.organisations.selectors import get_department

router = Router(tags=["catalog management"])


# --- schemas -------------------------------------------------------------------------------


class VersionOut(Schema):
    number: int
    name: str
    content_hash: str
    published_at: dt.datetime | None
    change_request_id: int | None
    change_kind: str | None


class VersionDetailOut(VersionOut):
    content: dict[str, Any]


class DiffEntry(Schema):
    path: str
    kind: str
    before: Any = None
    after: Any = None


class DiffOut(Schema):
    implementation_code: str
    from_version: int
    to_version: int
    changes: list[DiffEntry]


class LineageEntry(Schema):
    implementation_code: str
    name: str
    kind: str
    change_request_id: int


class LineageOut(Schema):
    predecessors: list[LineageEntry]
    successors: list[LineageEntry]


class StaffItemOut(Schema):
    id: int
    implementation_code: str
    name: str
    status: str
    department_id: int
    department_name: str
    division_code: str
    item_type: str
    online_depth: str
    version_count: int
    updated_at: dt.datetime


class StaffItemPage(Schema):
    items: list[StaffItemOut]
    next_cursor: str | None


class StaffItemFilter(Schema):
    department: int | None = None
    status: str | None = None
    cursor: str | None = None
    limit: int = 50


class ChangeRequestIn(Schema):
    kind: str = Field(description="add / change / split / merge / suspend / cancel / resume")
    department_id: int
    sources: list[str] = Field(default_factory=list, description="implementation codes acted on")
    proposals: list[dict[str, Any]] = Field(
        default_factory=list, description="item content documents (see /catalog/content-schema)"
    )
    reason: str = ""


class ReviewIn(Schema):
    approve: bool
    opinion: str = ""


class ReviewOut(Schema):
    step: str
    reviewer_id: int
    decision: str
    opinion: str
    decided_at: dt.datetime


class ChangeRequestOut(Schema):
    id: int
    kind: str
    status: str
    department_id: int
    sources: list[str]
    proposal_codes: list[str]
    reason: str
    review_steps: list[dict[str, str]]
    current_step: int
    created_by_id: int
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None


class ChangeRequestDetailOut(ChangeRequestOut):
    proposals: list[dict[str, Any]]
    reviews: list[ReviewOut]


class ChangeRequestPage(Schema):
    items: list[ChangeRequestOut]
    next_cursor: str | None


class ChangeRequestFilter(Schema):
    status: str | None = None
    cursor: str | None = None
    limit: int = 50


# --- helpers -------------------------------------------------------------------------------


def _version(v: Any) -> dict[str, Any]:
    return {
        "number": v.number,
        "name": v.name,
        "content_hash": v.content_hash,
        "published_at": v.published_at,
        "change_request_id": v.change_request_id,
        "change_kind": v.change_request.kind if v.change_request_id else None,
    }


def _change(c: ChangeRequest, *, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": c.pk,
        "kind": c.kind,
        "status": c.status,
        "department_id": c.department_id,
        "sources": sorted(s.implementation_code for s in c.sources.all()),
        "proposal_codes": [p.get("implementation_code", "") for p in c.proposals],
        "reason": c.reason,
        "review_steps": c.review_steps,
        "current_step": c.current_step,
        "created_by_id": c.created_by_id,
        "created_at": c.created_at,
        "submitted_at": c.submitted_at,
        "decided_at": c.decided_at,
    }
    if detail:
        body["proposals"] = c.proposals
        body["reviews"] = [
            {
                "step": r.step,
                "reviewer_id": r.reviewer_id,
                "decision": r.decision,
                "opinion": r.opinion,
                "decided_at": r.decided_at,
            }
            for r in c.reviews.all()
        ]
    return body


def _sources(codes: list[str], user: Any) -> list[Item]:
    found = {
        i.implementation_code: i
        for i in selectors.items_for_staff(user).filter(implementation_code__in=codes)
    }
    missing = [code for code in codes if code not in found]
    if missing:
        raise ValidationError(
            "catalog.source_unknown",
            "以下原事项不存在或无权操作：" + "、".join(missing),
            "Unknown source items (or not yours): " + ", ".join(missing),
            field="sources",
            details={"missing": missing},
        )
    return [found[code] for code in codes]


# --- public history ------------------------------------------------------------------------


@router.get("/content-schema", summary="JSON Schema of an item content document")
def content_schema(request: HttpRequest) -> dict[str, Any]:
    return ItemContent.model_json_schema()


@router.get("/items/{code}/versions", response=list[VersionOut], summary="Version history")
def list_versions(request: HttpRequest, code: str) -> list[dict[str, Any]]:
    item = selectors.get_public_item(code)
    return [_version(v) for v in selectors.versions_of(item)]


@router.get("/items/{code}/versions/{number}", response=VersionDetailOut, summary="One version")
def get_version(request: HttpRequest, code: str, number: int) -> dict[str, Any]:
    item = selectors.get_public_item(code)
    version = selectors.get_version(item, number)
    return {**_version(version), "content": version.content}


@router.get("/items/{code}/diff", response=DiffOut, summary="Differences between two versions")
def version_diff(
    request: HttpRequest,
    code: str,
    from_version: int = Query(..., alias="from"),
    to_version: int = Query(..., alias="to"),
) -> dict[str, Any]:
    item = selectors.get_public_item(code)
    old, new = selectors.get_version(item, from_version), selectors.get_version(item, to_version)
    return {
        "implementation_code": code,
        "from_version": from_version,
        "to_version": to_version,
        "changes": [vars(c) for c in diff(old.content, new.content)],
    }


@router.get("/items/{code}/lineage", response=LineageOut, summary="Split/merge lineage")
def lineage(request: HttpRequest, code: str) -> dict[str, Any]:
    item = selectors.get_public_item(code)
    predecessors, successors = selectors.lineage_of(item)

    def entry(other: Item, link: ItemLineage) -> dict[str, Any]:
        return {
            "implementation_code": other.implementation_code,
            "name": other.name,
            "kind": link.kind,
            "change_request_id": link.change_request_id,
        }

    return {
        "predecessors": [entry(x.predecessor, x) for x in predecessors],
        "successors": [entry(x.successor, x) for x in successors],
    }


# --- staff ---------------------------------------------------------------------------------


@router.get("/manage/items", response=StaffItemPage, auth=django_auth, summary="Items I manage")
def staff_items(request: HttpRequest, filters: Query[StaffItemFilter]) -> dict[str, Any]:
    page = selectors.list_items_for_staff(
        request.user,
        department=filters.department,
        status=filters.status,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {
        "items": [
            {
                "id": i.pk,
                "implementation_code": i.implementation_code,
                "name": i.name,
                "status": i.status,
                "department_id": i.department_id,
                "department_name": i.department.name,
                "division_code": i.division_id,
                "item_type": i.item_type,
                "online_depth": i.online_depth,
                "version_count": i.version_count,
                "updated_at": i.updated_at,
            }
            for i in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/change-requests", response=ChangeRequestPage, auth=django_auth, summary="Change requests"
)
def list_change_requests(
    request: HttpRequest, filters: Query[ChangeRequestFilter]
) -> dict[str, Any]:
    page = selectors.list_change_requests(
        request.user, status=filters.status, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [_change(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/change-requests",
    response={201: ChangeRequestDetailOut},
    auth=django_auth,
    summary="Draft a change request (accepts Idempotency-Key)",
)
def create_change_request(request: HttpRequest, body: ChangeRequestIn) -> Status:
    def create() -> tuple[int, Any]:
        department = get_department(body.department_id)
        change = services.create_change_request(
            user=request.user,
            kind=body.kind,
            department=department,
            sources=_sources(body.sources, request.user),
            proposals=body.proposals,
            reason=body.reason,
        )
        return 201, _change(change, detail=True)

    status, answer = idempotency.run(request, body.model_dump(mode="json"), create)
    return Status(status, answer)


@router.get(
    "/change-requests/{change_id}",
    response=ChangeRequestDetailOut,
    auth=django_auth,
    summary="One change request",
)
def get_change_request(request: HttpRequest, change_id: int) -> dict[str, Any]:
    return _change(selectors.get_change_request(request.user, change_id), detail=True)


def _act(request: HttpRequest, change_id: int, action: str, body: ReviewIn | None = None) -> Any:
    change = selectors.get_change_request(request.user, change_id)
    if action == "submit":
        services.submit_change_request(change, user=request.user)
    elif action == "withdraw":
        services.withdraw_change_request(change, user=request.user)
    elif body is not None:
        services.review_change_request(
            change, user=request.user, approve=body.approve, opinion=body.opinion
        )
    else:  # pragma: no cover - routes below pass a body for reviews
        raise NotFound("catalog.change_action", "操作不存在。", "Unknown action.")
    return _change(selectors.get_change_request(request.user, change_id), detail=True)


@router.post(
    "/change-requests/{change_id}/submit", response=ChangeRequestDetailOut, auth=django_auth
)
def submit(request: HttpRequest, change_id: int) -> Any:
    return _act(request, change_id, "submit")


@router.post(
    "/change-requests/{change_id}/withdraw", response=ChangeRequestDetailOut, auth=django_auth
)
def withdraw(request: HttpRequest, change_id: int) -> Any:
    return _act(request, change_id, "withdraw")


@router.post(
    "/change-requests/{change_id}/review", response=ChangeRequestDetailOut, auth=django_auth
)
def review(request: HttpRequest, change_id: int, body: ReviewIn) -> Any:
    return _act(request, change_id, "review", body)
