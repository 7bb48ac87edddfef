"""Who may open the workbench, and what its side navigation offers them.

The workbench is for staff: anyone holding a current role (``StaffMembership``) in some
department, or a superuser. A visitor who is not signed in goes to the login page; a signed-in
person without a staff role gets the 403 page. What a staff member may *do* on a page is still
decided by the services (``PermissionDenied``), never by the navigation alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from zwfw.organisations.models import Role, StaffMembership

CASE_ROLES = frozenset(
    {Role.CLERK, Role.REVIEWER, Role.DECIDER, Role.SUPERVISOR, Role.DEPARTMENT_ADMIN}
)
CATALOG_ROLES = frozenset({Role.CATALOG_OFFICER, Role.CATALOG_REVIEWER, Role.NODE_ADMIN})
IMPORT_ROLES = frozenset({Role.CATALOG_OFFICER, Role.NODE_ADMIN})
DASHBOARD_ROLES = frozenset(
    {Role.SUPERVISOR, Role.DEPARTMENT_ADMIN, Role.NODE_ADMIN, Role.DATA_OFFICER}
)


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member's roles, read once per request."""

    roles: frozenset[str]
    departments: tuple[tuple[int, str, str], ...]  # (department id, name, role)
    superuser: bool

    def has(self, roles: frozenset[str] | set[str]) -> bool:
        return self.superuser or bool(self.roles & roles)

    @property
    def nav(self) -> list[dict[str, str]]:
        entries: list[dict[str, str]] = []
        if self.has(CASE_ROLES):
            entries.append({"key": "inbox", "label": "待办", "url": reverse("workbench:inbox")})
            entries.append({"key": "cases", "label": "办件查询", "url": reverse("workbench:cases")})
        if self.has(CATALOG_ROLES):
            entries.append({"key": "items", "label": "事项管理", "url": reverse("workbench:items")})
            entries.append(
                {"key": "changes", "label": "变更审核", "url": reverse("workbench:changes")}
            )
        if self.has(IMPORT_ROLES):
            entries.append({"key": "import", "label": "导入", "url": reverse("workbench:import")})
        if self.has(frozenset({Role.CLERK})):
            entries.append(
                {"key": "window", "label": "窗口收件", "url": reverse("workbench:window")}
            )
            entries.append(
                {
                    "key": "register",
                    "label": "窗口登记",
                    "url": reverse("identity_workbench:register"),
                }
            )
        if self.has(DASHBOARD_ROLES):
            entries.append(
                {
                    "key": "dashboards",
                    "label": "数据看板",
                    "url": reverse("indicators:dashboard"),
                }
            )
        return entries

    @property
    def role_labels(self) -> list[str]:
        return sorted({str(Role(r).label) for r in self.roles if r in Role.values})


def staff_of(user: Any) -> Staff | None:
    """The user's current staff roles, or None when the user is not staff."""
    if not getattr(user, "is_authenticated", False):
        return None
    today = timezone.localdate()
    rows = (
        StaffMembership.objects.filter(user_id=user.pk)
        .exclude(valid_until__lt=today)
        .values_list("department_id", "department__name", "role")
        .order_by("department_id", "role")
    )
    departments = tuple(rows)
    superuser = bool(getattr(user, "is_superuser", False))
    if not departments and not superuser:
        return None
    return Staff(frozenset(r for _, _, r in departments), departments, superuser)


def forbidden(request: HttpRequest, message: str = "") -> HttpResponse:
    return render(
        request,
        "workbench/forbidden.html",
        {"message": message or "您没有访问工作台此页面的权限。"},
        status=403,
    )


View = Callable[..., HttpResponse]


def staff_required(roles: frozenset[str] | None = None) -> Callable[[View], View]:
    """Only staff (holding one of ``roles``, when given) reach the view; ``request.staff`` is
    set for it and for the navigation."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = staff_of(request.user)
            if staff is None:
                return forbidden(request, "工作台仅供工作人员使用。")
            if roles is not None and not staff.has(roles):
                return forbidden(request)
            request.staff = staff  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
