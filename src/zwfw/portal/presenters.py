"""How cases read on the portal: status badges and the applicant-facing timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zwfw.cases.models import Case, CaseEvent, CaseStatus

#: status → badge class of site.css
_BADGES: dict[str, str] = {
    CaseStatus.DRAFT: "",
    CaseStatus.SUBMITTED: "badge-info",
    CaseStatus.CORRECTION: "badge-warn",
    CaseStatus.IN_PROGRESS: "badge-info",
    CaseStatus.SPECIAL: "badge-warn",
    CaseStatus.SUSPENDED: "badge-warn",
    CaseStatus.CLOSED: "badge-ok",
    CaseStatus.REFUSED: "badge-danger",
    CaseStatus.WITHDRAWN: "",
}


@dataclass(frozen=True)
class Badge:
    label: str
    css: str


def status_badge(status: str) -> Badge:
    label = CaseStatus(status).label if status in CaseStatus.values else status
    return Badge(str(label), _BADGES.get(status, ""))


@dataclass(frozen=True)
class Step:
    name: str
    department: str
    action: str
    at: Any
    ended_at: Any
    opinion: str


def public_timeline(case: Case, *, with_opinions: bool = False) -> list[Step]:
    """The case's history as the applicant sees it: step, department, result, time; staff
    opinions only for the applicant's own pages (``with_opinions``), never on the anonymous
    progress lookup, and staff names never."""
    events = CaseEvent.objects.filter(case=case).select_related("department").order_by("id")
    return [
        Step(
            name=event.step_name,
            department=event.department.name if event.department is not None else "",
            action=str(CaseEvent.Action(event.action).label)
            if event.action in CaseEvent.Action.values and event.action != CaseEvent.Action.OTHER
            else "",
            at=event.started_at,
            ended_at=event.ended_at,
            opinion=event.opinion if with_opinions else "",
        )
        for event in events
    ]
