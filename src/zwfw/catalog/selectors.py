"""Catalogue reads, each restricted to what the caller may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from zwfw.catalog.models import (
    ChangeRequest,
    ChangeStatus,
    Item,
    ItemLineage,
    ItemStatus,
    ItemVersion,
)
from zwfw.core.errors import NotFound
from zwfw.core.pagination import Page, paginate
from zwfw.organisations.models import Role, StaffMembership
from zwfw.organisations.selectors import has_role

PUBLIC_STATUSES = (ItemStatus.PUBLISHED, ItemStatus.SUSPENDED, ItemStatus.CANCELLED)


def _officer_departments(user: Any) -> QuerySet[StaffMembership, Any]:
    return StaffMembership.objects.filter(user=user, role=Role.CATALOG_OFFICER).values(
        "department_id"
    )


def sees_whole_catalogue(user: Any) -> bool:
    """Node administrators, catalogue reviewers and supervisors see every department's items."""
    return any(
        has_role(user, role) for role in (Role.NODE_ADMIN, Role.CATALOG_REVIEWER, Role.SUPERVISOR)
    )


def items_for_staff(user: Any) -> QuerySet[Item]:
    """Items a staff member may manage or inspect (drafts included)."""
    queryset = Item.objects.select_related("department", "division")
    if sees_whole_catalogue(user):
        return queryset
    return queryset.filter(department_id__in=_officer_departments(user))


def list_items_for_staff(
    user: Any,
    *,
    department: int | None = None,
    status: str | None = None,
    cursor: str | None,
    limit: int,
) -> Page[Item]:
    queryset = items_for_staff(user)
    if department is not None:
        queryset = queryset.filter(department_id=department)
    if status:
        queryset = queryset.filter(status=status)
    return paginate(queryset, ("id",), cursor, limit)


def get_public_item(code: str) -> Item:
    """An item whose history the public may read: it has been published at least once."""
    item = (
        Item.objects.select_related("department", "division", "current_version")
        .filter(implementation_code=code, status__in=PUBLIC_STATUSES)
        .first()
    )
    if item is None:
        raise NotFound(
            "catalog.item_unknown",
            f"事项{code}不存在或尚未发布。",
            f"No published item {code}.",
            details={"implementation_code": code},
        )
    return item


def versions_of(item: Item) -> list[ItemVersion]:
    return list(
        ItemVersion.objects.filter(item=item)
        .select_related("change_request")
        .defer("content")
        .order_by("number")
    )


def get_version(item: Item, number: int) -> ItemVersion:
    version = ItemVersion.objects.filter(item=item, number=number).first()
    if version is None:
        raise NotFound(
            "catalog.version_unknown",
            f"事项没有第{number}版。",
            f"The item has no version {number}.",
            details={"version": number, "latest": item.version_count},
        )
    return version


def change_requests_for(user: Any) -> QuerySet[ChangeRequest]:
    """Officers see their departments' requests; reviewers also see every request in review."""
    queryset = ChangeRequest.objects.select_related("department", "created_by")
    if has_role(user, Role.NODE_ADMIN) or has_role(user, Role.SUPERVISOR):
        return queryset
    visible = Q(department_id__in=_officer_departments(user))
    if has_role(user, Role.CATALOG_REVIEWER):
        visible |= Q(
            status__in=[ChangeStatus.IN_REVIEW, ChangeStatus.APPROVED, ChangeStatus.REJECTED]
        )
    return queryset.filter(visible)


def list_change_requests(
    user: Any, *, status: str | None = None, cursor: str | None, limit: int
) -> Page[ChangeRequest]:
    queryset = change_requests_for(user)
    if status:
        queryset = queryset.filter(status=status)
    return paginate(queryset.prefetch_related("sources"), ("id",), cursor, limit)


def get_change_request(user: Any, change_id: int) -> ChangeRequest:
    change = (
        change_requests_for(user)
        .prefetch_related("sources", "reviews")
        .filter(pk=change_id)
        .first()
    )
    if change is None:
        raise NotFound(
            "catalog.change_unknown",
            "变更申请不存在，或无权查看。",
            "No such change request (or not visible to you).",
        )
    return change


def lineage_of(item: Item) -> tuple[list[ItemLineage], list[ItemLineage]]:
    """(links to predecessors, links to successors) of an item, with both ends loaded."""
    links = ItemLineage.objects.select_related("predecessor", "successor").order_by("id")
    return list(links.filter(successor=item)), list(links.filter(predecessor=item))
