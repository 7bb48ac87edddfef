"""Reads of 电子监察: who sees what, warning and order lists, summaries and card counts.

Visibility (SPEC §8, issue 7):

- a **supervisor** (监察人员) sees the warnings and orders of every department of their node,
  i.e. every department whose division lies within the division of a department they
  supervise in (``organisations.selectors.division_prefix``);
- a **node admin** (and a superuser) sees everything;
- other **staff** see their own departments only (the departments they hold any role in);
- anyone else (citizens, companies) sees nothing: ``PermissionDenied``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from zwfw.core.errors import NotFound, PermissionDenied
from zwfw.core.pagination import Page, check_limit, decode_cursor, encode_cursor
from zwfw.organisations.models import Department, Role, StaffMembership
from zwfw.organisations.selectors import division_prefix
from zwfw.supervision.models import Order, Rule, Warning, WarningCount

DENIED = PermissionDenied(
    "supervision.forbidden",
    "无权查看电子监察信息。",
    "Only staff may see supervision warnings and orders.",
)


@dataclass(frozen=True)
class Scope:
    """The departments a user may see: everything, some divisions, or some departments."""

    everything: bool = False
    prefixes: tuple[str, ...] = ()
    department_ids: tuple[int, ...] = ()

    def departments_q(self, field: str = "department") -> Q:
        if self.everything:
            return Q()
        condition = Q(**{f"{field}_id__in": list(self.department_ids)})
        for prefix in self.prefixes:
            condition |= Q(**{f"{field}__division__code__startswith": prefix})
        return condition

    def resolved_q(self, field: str = "department") -> Q:
        """Like :meth:`departments_q`, with the divisions resolved to department ids first
        (one small query): big tables are then filtered on their own column, no join."""
        if self.everything:
            return Q()
        ids = set(self.department_ids)
        if self.prefixes:
            within = Q()
            for prefix in self.prefixes:
                within |= Q(division__code__startswith=prefix)
            ids.update(Department.objects.filter(within).values_list("id", flat=True))
        return Q(**{f"{field}_id__in": sorted(ids)})

    def covers(self, department: Department) -> bool:
        if self.everything or department.pk in self.department_ids:
            return True
        return any(department.division_id.startswith(p) for p in self.prefixes)


def _memberships(user: Any) -> list[StaffMembership]:
    today = timezone.localdate()
    return list(
        StaffMembership.objects.filter(user=user)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("department")
    )


def scope_of(user: Any) -> Scope:
    """What ``user`` may see; raises PermissionDenied for non-staff."""
    if not getattr(user, "is_authenticated", False):
        raise DENIED
    if getattr(user, "is_superuser", False):
        return Scope(everything=True)
    memberships = _memberships(user)
    if not memberships:
        raise DENIED
    if any(m.role == Role.NODE_ADMIN for m in memberships):
        return Scope(everything=True)
    prefixes = sorted(
        {
            division_prefix(m.department.division_id)
            for m in memberships
            if m.role == Role.SUPERVISOR
        }
    )
    return Scope(
        prefixes=tuple(prefixes),
        department_ids=tuple(sorted({m.department_id for m in memberships})),
    )


def supervision_scope(user: Any) -> Scope:
    """The departments ``user`` supervises (issues and closes orders); may be empty."""
    if getattr(user, "is_superuser", False):
        return Scope(everything=True)
    if not getattr(user, "is_authenticated", False):
        return Scope()
    memberships = _memberships(user)
    if any(m.role == Role.NODE_ADMIN for m in memberships):
        return Scope(everything=True)
    return Scope(
        prefixes=tuple(
            sorted(
                {
                    division_prefix(m.department.division_id)
                    for m in memberships
                    if m.role == Role.SUPERVISOR
                }
            )
        )
    )


def _descending_page(
    queryset: QuerySet[Any], cursor: str | None, limit: int, related: tuple[str, ...]
) -> Page[Any]:
    """Newest first, keyed on the primary key (stable while rows are added).

    Two steps: the page's ids from the filtered table alone (read backwards on the primary
    key), then those rows with their relations — joined in one query, SQLite starts from the
    smallest joined table (the 8 rules) and sorts a million warnings.
    """
    check_limit(limit)
    queryset = queryset.order_by("-id")
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        if not isinstance(last_id, int):
            decode_cursor("", 1)  # the same "invalid cursor" error
        queryset = queryset.filter(id__lt=last_id)
    ids = list(queryset.values_list("id", flat=True)[: limit + 1])
    more = len(ids) > limit
    ids = ids[:limit]
    rows = list(queryset.model.objects.filter(pk__in=ids).select_related(*related).order_by("-id"))
    return Page(rows, encode_cursor([rows[-1].pk]) if more and rows else None)


# --- warnings ------------------------------------------------------------------------------------


def warnings(
    user: Any,
    *,
    severity: str | None = None,
    status: str | None = None,
    department_id: int | None = None,
    rule: str | None = None,
    case_number: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[Warning]:
    scope = scope_of(user)
    queryset = Warning.objects.filter(scope.resolved_q())
    if severity:
        queryset = queryset.filter(severity=severity)
    if status:
        queryset = queryset.filter(status=status)
    if department_id is not None:
        queryset = queryset.filter(department_id=department_id)
    if rule:
        queryset = queryset.filter(rule__code=rule)
    if case_number:
        queryset = queryset.filter(case__number=case_number)
    return _descending_page(queryset, cursor, limit, ("rule", "department", "case"))


def get_warning(user: Any, number: str) -> Warning:
    scope = scope_of(user)
    warning = (
        Warning.objects.filter(number=number)
        .filter(scope.departments_q())
        .select_related("rule", "department", "case")
        .first()
    )
    if warning is None:
        raise NotFound("supervision.warning_unknown", "监察预警不存在。", "No such warning.")
    return warning


def warning_summary(user: Any, *, status: str = "open") -> dict[str, Any]:
    """Counts of warnings by severity and by department (the dashboards read this)."""
    scope = scope_of(user)
    rows: Any
    if status == "open":
        # Kept by every rule run (the only writer of warnings): a few hundred rows.
        rows = (
            WarningCount.objects.filter(scope.departments_q(), count__gt=0)
            .values("department_id", "department__name", "severity", "count")
            .order_by("department_id", "severity")
        )
    else:
        rows = (
            Warning.objects.filter(scope.departments_q(), status=status)
            .values("department_id", "department__name", "severity")
            .annotate(count=Count("id"))
            .order_by("department_id", "severity")
        )
    by_severity = {"yellow": 0, "orange": 0, "red": 0}
    departments: dict[int, dict[str, Any]] = {}
    for row in rows:
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + row["count"]
        entry = departments.setdefault(
            row["department_id"],
            {
                "department_id": row["department_id"],
                "department": row["department__name"],
                "yellow": 0,
                "orange": 0,
                "red": 0,
                "total": 0,
            },
        )
        entry[row["severity"]] = entry.get(row["severity"], 0) + row["count"]
        entry["total"] += row["count"]
    return {
        "status": status,
        "total": sum(by_severity.values()),
        "by_severity": by_severity,
        "by_department": list(departments.values()),
    }


# --- orders --------------------------------------------------------------------------------------


def _order_scope_q(scope: Scope) -> Q:
    if scope.everything:
        return Q()
    return scope.resolved_q() | scope.resolved_q("escalated_to")


def orders(
    user: Any,
    *,
    status: str | None = None,
    department_id: int | None = None,
    card: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[Order]:
    scope = scope_of(user)
    queryset = Order.objects.filter(_order_scope_q(scope))
    if status:
        queryset = queryset.filter(status=status)
    if department_id is not None:
        queryset = queryset.filter(department_id=department_id)
    if card:
        queryset = queryset.filter(card=card)
    return _descending_page(
        queryset, cursor, limit, ("department", "escalated_to", "case", "warning")
    )


def get_order(user: Any, number: str) -> Order:
    scope = scope_of(user)
    order = (
        Order.objects.filter(number=number)
        .filter(_order_scope_q(scope))
        .select_related("department", "escalated_to", "case", "warning")
        .first()
    )
    if order is None:
        raise NotFound("supervision.order_unknown", "督办单不存在。", "No such order.")
    return order


def card_counts(
    *,
    department_ids: list[int] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[int, dict[str, int]]:
    """Yellow and red cards (督办 orders) per department: ``{department_id: {yellow, red}}``.

    For dashboards and indicators (no permission check: the caller decides who sees what).
    ``since`` / ``until`` bound the day the order was issued (inclusive).
    """
    queryset = Order.objects.all()
    if department_ids is not None:
        queryset = queryset.filter(department_id__in=department_ids)
    if since is not None:
        queryset = queryset.filter(issued_at__date__gte=since)
    if until is not None:
        queryset = queryset.filter(issued_at__date__lte=until)
    counts: dict[int, dict[str, int]] = {}
    for row in queryset.values("department_id", "card").annotate(count=Count("id")):
        entry = counts.setdefault(row["department_id"], {"yellow": 0, "red": 0})
        entry[row["card"]] = row["count"]
    return counts


def rules() -> list[Rule]:
    return list(Rule.objects.order_by("code"))
