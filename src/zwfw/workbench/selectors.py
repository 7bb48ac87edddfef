"""Reads of the workbench pages that the owning apps' selectors do not offer as such.

The inbox's plain filters (queue / mine, kind, department, item) go to
:func:`zwfw.cases.selectors.inbox`. The filters by role and by the case clock (nearing due,
overdue) are built here on the same rule of who sees which open task: tasks claimed by the
user, and unclaimed tasks of the (department, role) pairs the user currently holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from zwfw.cases import selectors as case_selectors
from zwfw.cases.models import CaseTask, TaskKind
from zwfw.core import calendar as cal
from zwfw.core.errors import ValidationError
from zwfw.core.pagination import Page, check_limit, decode_cursor, encode_cursor
from zwfw.organisations.models import Role, StaffMembership

#: A case is "nearing due" when its due date is at most this many working days away.
NEARING_WORKING_DAYS = 2

#: The inbox row's columns (those of the cases app's inbox, plus the case's due date, which
#: the clock filters read and the row shows).
ROW_COLUMNS = (*case_selectors.INBOX_COLUMNS, "case__due_date", "case__paused_since")

SCOPES = ("all", "mine", "queue")
DUE_FILTERS = ("", "nearing", "overdue")


@dataclass(frozen=True)
class InboxFilter:
    scope: str = "all"
    kind: str = ""
    department_id: int | None = None
    role: str = ""
    item_code: str = ""
    due: str = ""
    cursor: str = ""

    def clean(self) -> InboxFilter:
        if self.scope not in SCOPES:
            raise ValidationError(
                "workbench.inbox_scope", "范围应为全部、我的或待签收。", "Bad scope.", field="scope"
            )
        if self.kind and self.kind not in TaskKind.values:
            raise ValidationError(
                "workbench.inbox_kind", "环节类型无效。", "Bad task kind.", field="kind"
            )
        if self.role and self.role not in Role.values:
            raise ValidationError("workbench.inbox_role", "角色无效。", "Bad role.", field="role")
        if self.due not in DUE_FILTERS:
            raise ValidationError(
                "workbench.inbox_due", "时限筛选无效。", "Bad due filter.", field="due"
            )
        return self


def _pairs(user: Any) -> list[tuple[int, str]]:
    today = timezone.localdate()
    return list(
        StaffMembership.objects.filter(user_id=user.pk)
        .exclude(valid_until__lt=today)
        .values_list("department_id", "role")
    )


def nearing_until(today: dt.date) -> dt.date:
    return cal.add_working_days(today, NEARING_WORKING_DAYS)


def inbox_page(user: Any, filters: InboxFilter, limit: int = 20) -> Page[CaseTask]:
    """One page of the user's inbox, newest task first."""
    filters = filters.clean()
    check_limit(limit)
    if not filters.role and not filters.due:
        return case_selectors.inbox(
            user,
            scope=filters.scope,
            kind=filters.kind or None,
            department_id=filters.department_id,
            item_code=filters.item_code or None,
            cursor=filters.cursor or None,
            limit=limit,
        )
    queryset = _visible_open_tasks(user, filters)
    if filters.cursor:
        (last,) = decode_cursor(filters.cursor, 1)
        if not isinstance(last, int):
            raise ValidationError("pagination.cursor", "分页游标无效。", "Bad cursor.")
        queryset = queryset.filter(pk__lt=last)
    rows = list(
        queryset.select_related("case", "department")
        .only(*ROW_COLUMNS)
        .order_by("-pk")[: limit + 1]
    )
    next_cursor = encode_cursor([rows[limit - 1].pk]) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def _visible_open_tasks(user: Any, filters: InboxFilter) -> QuerySet[CaseTask]:
    mine = Q(assignee_id=user.pk)
    queue = Q(pk__in=[])
    for department_id, role in _pairs(user):
        queue |= Q(department_id=department_id, role=role, assignee__isnull=True)
    visible = {"all": mine | queue, "mine": mine, "queue": queue}[filters.scope]
    queryset = CaseTask.objects.filter(visible, status=CaseTask.Status.OPEN)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.department_id:
        queryset = queryset.filter(department_id=filters.department_id)
    if filters.role:
        queryset = queryset.filter(role=filters.role)
    if filters.item_code:
        queryset = queryset.filter(case__implementation_code=filters.item_code)
    today = cal.local_date(timezone.now())
    running = Q(case__closed_at__isnull=True, case__paused_since__isnull=True)
    if filters.due == "overdue":
        queryset = queryset.filter(running, case__due_date__lt=today)
    elif filters.due == "nearing":
        queryset = queryset.filter(
            running, case__due_date__gte=today, case__due_date__lte=nearing_until(today)
        )
    return queryset


def inbox_counts(user: Any) -> dict[str, Any]:
    """The cases app's counts plus the nearing-due count (two more queries at most)."""
    counts = case_selectors.inbox_counts(user)
    counts["nearing"] = _visible_open_tasks(user, InboxFilter(due="nearing")).count()
    return counts


def window_items(user: Any, limit: int = 500) -> list[Any]:
    """Published items a window clerk may apply for on someone's behalf: those of the
    departments where the user is a clerk (the service checks the role again)."""
    from zwfw.catalog.models import Item, ItemStatus

    today = timezone.localdate()
    departments = (
        StaffMembership.objects.filter(user_id=user.pk, role=Role.CLERK)
        .exclude(valid_until__lt=today)
        .values("department_id")
    )
    return list(
        Item.objects.filter(department_id__in=departments, status=ItemStatus.PUBLISHED)
        .exclude(current_version__isnull=True)
        .select_related("department")
        .only("id", "implementation_code", "name", "current_version_id", "department__name")
        .order_by("name", "id")[:limit]
    )
