"""Read queries of accounts, each restricted to what the viewer may see.

Personal identifiers are masked for everyone but the owner: ``profile(viewer, user)``
shows the full ID number and phone only when ``viewer`` is ``user``. Lists are keyset-paged
and load their relations in the same query (no query per row).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from zwfw.core.errors import NotFound, PermissionDenied
from zwfw.core.masking import mask_id_number, mask_name, mask_phone
from zwfw.core.pagination import Page, paginate
from zwfw.identity.models import AgentAuthorisation, Company, User, UserSession
from zwfw.organisations.models import Role, StaffMembership


def profile(viewer: Any, user: User) -> dict[str, Any]:
    """A user's profile; ID number, phone and name in full only for the owner."""
    own = getattr(viewer, "pk", None) == user.pk
    return {
        "id": user.pk,
        "username": user.username,
        "kind": user.kind,
        "real_name": user.real_name if own else mask_name(user.real_name),
        "id_type": user.id_type,
        "id_number": user.id_number if own else mask_id_number(user.id_number),
        "phone": user.phone if own else mask_phone(user.phone),
        "email": user.email if own else "",
        "sex": user.sex,
        "birth_date": user.birth_date if own else None,
        "work_unit": user.work_unit,
        "trust_level": user.trust_level,
        "trust_source": user.trust_source,
        "trust_updated_at": user.trust_updated_at,
        "must_change_password": user.must_change_password if own else False,
        "date_joined": user.date_joined,
    }


def sessions_of(
    user: User, *, include_ended: bool = False, cursor: str | None, limit: int
) -> Page[UserSession]:
    """The user's own sign-in sessions (active ones unless ``include_ended``)."""
    queryset = UserSession.objects.filter(user=user)
    if not include_ended:
        queryset = queryset.filter(ended_at__isnull=True)
    return paginate(queryset, ("id",), cursor, limit)


def companies_of(user: Any) -> QuerySet[Company]:
    """Companies the user represents or may act for today (an active authorisation)."""
    today = timezone.localdate()
    acting = AgentAuthorisation.objects.filter(
        agent_id=user.pk, revoked_at__isnull=True, valid_from__lte=today, valid_until__gte=today
    ).values("company_id")
    return (
        Company.objects.filter(Q(legal_representative_id=user.pk) | Q(pk__in=acting))
        .select_related("legal_representative")
        .order_by("uscc")
    )


def get_company(viewer: Any, uscc: str) -> Company:
    """A company the viewer represents or acts for. Raises ``NotFound`` otherwise (also for
    companies that exist: the list of registered companies is not public)."""
    company = companies_of(viewer).filter(uscc=str(uscc)[:18].upper()).first()
    if company is None:
        raise NotFound(
            "identity.company_unknown",
            "未找到该单位，或您不是其法定代表人或经办人。",
            "No such company among yours.",
        )
    return company


def authorisations_of_company(
    viewer: Any, company: Company, *, cursor: str | None, limit: int
) -> Page[AgentAuthorisation]:
    """The legal representative sees every authorisation; an agent only their own."""
    queryset = AgentAuthorisation.objects.filter(company=company).select_related("agent", "company")
    if viewer.pk != company.legal_representative_id:
        queryset = queryset.filter(agent_id=viewer.pk)
    return paginate(queryset, ("id",), cursor, limit)


def get_authorisation(viewer: Any, authorisation_id: int) -> AgentAuthorisation:
    """An authorisation of the viewer's company (as representative) or of the viewer (as
    agent). Raises ``NotFound``."""
    found = (
        AgentAuthorisation.objects.select_related("company", "agent")
        .filter(pk=authorisation_id)
        .filter(Q(agent_id=viewer.pk) | Q(company__legal_representative_id=viewer.pk))
        .first()
    )
    if found is None:
        raise NotFound("identity.authorisation_unknown", "该授权不存在。", "No such authorisation.")
    return found


def my_authorisations(agent: Any, *, cursor: str | None, limit: int) -> Page[AgentAuthorisation]:
    """Authorisations naming the viewer as agent (active or not)."""
    queryset = AgentAuthorisation.objects.filter(agent_id=agent.pk).select_related("company")
    return paginate(queryset, ("id",), cursor, limit)


def authorisation_row(a: AgentAuthorisation, today: Any = None) -> dict[str, Any]:
    """An authorisation for lists: the agent's identifiers masked."""
    return {
        "id": a.pk,
        "company_uscc": a.company.uscc,
        "company_name": a.company.name,
        "agent_id": a.agent_id,
        "agent_name": a.agent.real_name,
        "agent_id_number": mask_id_number(a.agent.id_number),
        "agent_phone": mask_phone(a.agent.phone),
        "all_items": a.all_items,
        "item_codes": list(a.item_codes),
        "valid_from": a.valid_from,
        "valid_until": a.valid_until,
        "revoked_at": a.revoked_at,
        "active": a.is_active(today),
    }


def staff_visible_to(
    viewer: Any, *, department: int | None = None, cursor: str | None, limit: int
) -> Page[StaffMembership]:
    """Staff roles the viewer may see: all for node administrators, their departments' for
    department administrators. Raises ``PermissionDenied`` (``identity.staff_admin``)."""
    from zwfw.organisations.selectors import has_role

    queryset = StaffMembership.objects.select_related("user", "department")
    if not has_role(viewer, Role.NODE_ADMIN):
        mine = StaffMembership.objects.filter(user=viewer, role=Role.DEPARTMENT_ADMIN).values(
            "department_id"
        )
        if not mine.exists():
            raise PermissionDenied(
                "identity.staff_admin",
                "只有平台管理员或部门管理员可以查看工作人员。",
                "Only administrators list staff.",
            )
        queryset = queryset.filter(department_id__in=mine)
    if department is not None:
        queryset = queryset.filter(department_id=department)
    return paginate(queryset, ("id",), cursor, limit)
