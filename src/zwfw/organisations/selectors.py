"""Read queries for divisions, departments and staff roles."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from zwfw.core.errors import NotFound
from zwfw.core.pagination import Page, paginate
from zwfw.organisations.models import Department, Division, StaffMembership


def get_division(code: str) -> Division:
    division = Division.objects.select_related("parent").filter(code=code).first()
    if division is None:
        raise NotFound(
            "division.unknown",
            f"行政区划代码{code}不存在。",
            f"No division with code {code}.",
            field="code",
        )
    return division


def list_divisions(
    *, parent: str | None = None, level: int | None = None, cursor: str | None, limit: int
) -> Page[Division]:
    queryset = Division.objects.select_related("parent")
    if parent is not None:
        queryset = queryset.filter(parent_id=parent)
    if level is not None:
        queryset = queryset.filter(level=level)
    return paginate(queryset, ("code",), cursor, limit)


def get_department(department_id: int) -> Department:
    department = (
        Department.objects.select_related("division", "parent").filter(pk=department_id).first()
    )
    if department is None:
        raise NotFound(
            "department.unknown",
            "部门不存在。",
            "No such department.",
            details={"id": department_id},
        )
    return department


def list_departments(
    *,
    division: str | None = None,
    within: str | None = None,
    active_only: bool = True,
    cursor: str | None,
    limit: int,
) -> Page[Department]:
    """Departments of one division, or of a division and everything under it (``within``)."""
    queryset: QuerySet[Department] = Department.objects.select_related("division", "parent")
    if active_only:
        queryset = queryset.filter(is_active=True)
    if division is not None:
        queryset = queryset.filter(division_id=division)
    if within is not None:
        queryset = queryset.filter(division__code__startswith=division_prefix(within))
    return paginate(queryset, ("id",), cursor, limit)


def division_prefix(code: str) -> str:
    """The code prefix shared by a division and everything under it.

    ``510000`` → ``51``; ``511600`` → ``5116``; a county (or longer) code stays whole.
    """
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def roles_of(user: Any) -> QuerySet[StaffMembership]:
    return StaffMembership.objects.filter(user=user).select_related("department")


def has_role(user: Any, role: str, department: Department | None = None) -> bool:
    """Whether ``user`` holds ``role`` (in ``department``, if given); superusers always do."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    today = timezone.localdate()
    memberships = StaffMembership.objects.filter(user=user, role=role).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )
    if department is not None:
        memberships = memberships.filter(department=department)
    return memberships.exists()
