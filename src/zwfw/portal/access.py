"""Whose cases a portal request may see: the person's own, or — while acting for a company —
the company's (``cases.selectors`` decides; anything else is a 404, never a 403, so that
case ids cannot be probed)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from zwfw.cases import selectors
from zwfw.cases.models import Case
from zwfw.core.errors import NotFound


def acting_uscc(request: HttpRequest) -> str | None:
    """The USCC of the company this session acts for (identity's switch), or None."""
    from zwfw.identity.services import SESSION_ACTING

    acting = request.session.get(SESSION_ACTING) if hasattr(request, "session") else None
    return acting.get("uscc") if isinstance(acting, dict) else None


def my_case_queryset(request: HttpRequest) -> QuerySet[Case]:
    """Cases of the signed-in person (as a person), or of the company acted for."""
    uscc = acting_uscc(request)
    if uscc:
        return Case.objects.filter(company__uscc=uscc)
    return Case.objects.filter(applicant_user_id=request.user.pk, company__isnull=True)


def my_case(request: HttpRequest, case_id: int) -> Case:
    """One case on the applicant side of this request, or 404."""
    user: Any = request.user
    try:
        return selectors.case_for_applicant(user, str(case_id), acting_uscc(request))
    except NotFound:
        raise Http404("no such case") from None
