"""Demo data of 好差评 (J4, J7), loaded after cases and supervision.

- J4: 王强, acting for the journey company, rates the red (overdue) 食品经营许可 case of the
  supervision demo 非常不满意 — "三次电话都没人接" — leaving his phone for a return call. Its
  rectification waits at 核实中 for 市场监督管理局: 吴芳 (``dept_admin``) verifies and logs the
  return call, 赵刚 (``supervisor``) closes.
- J7: at the 广安区民政局 window, the clerk 张敏 prints a visit code; the resident rates the
  service 非常满意 on the hall tablet (一次一评).

Loading twice changes nothing (an audit entry marks that the ratings were made).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from zwfw.core import audit

ACTOR = "system:load_demo"
DEMO_MARK = "ratings:demo:loaded"
J2_ITEM = "XK00201000-3-511600-11511600511600040H-01"  # 食品经营许可
J7_ITEM = "JF00151000-4-511602-115116025116002358-01"  # 高龄津贴申领
CIVIL_AFFAIRS = "广安区民政局"
ANGRY = "三次电话都没人接"


def _j4_rating() -> int:
    from zwfw.cases.models import Case, CaseStatus
    from zwfw.core import calendar as cal
    from zwfw.identity.models import User
    from zwfw.ratings import services

    today = cal.local_date(timezone.now())
    case = (
        Case.objects.filter(
            implementation_code=J2_ITEM,
            status=CaseStatus.IN_PROGRESS,
            due_date__lt=today,
            company__isnull=False,
        )
        .select_related("company")
        .order_by("due_date", "pk")
        .first()
    )
    agent = User.objects.filter(real_name="王强", kind="person").first()
    if case is None or agent is None or case.company is None:
        return 0
    services.rate_case(
        agent,
        case,
        level=5,
        text=ANGRY,
        scores={"efficiency": 1, "attitude": 1},
        channel="2",
        named=bool(agent.phone),
        acting_uscc=case.company.uscc,
    )
    return 1


def _j7_rating() -> int:
    from zwfw.catalog.models import Item
    from zwfw.identity.models import User
    from zwfw.organisations.models import Department
    from zwfw.ratings import services

    department = Department.objects.filter(name=CIVIL_AFFAIRS).first()
    clerk = User.objects.filter(username="clerk").first()
    if department is None or clerk is None:
        return 0
    item = Item.objects.filter(implementation_code=J7_ITEM, department=department).first()
    _row, token = services.issue_visit_token(
        clerk,
        department=department,
        item_code=item.implementation_code if item else "",
        channel="4",
    )
    services.rate_by_token(
        token,
        level=1,
        text="工作人员耐心帮老人填表，很快就办好了",
        scores={"efficiency": 5, "guide_accuracy": 5, "convenience": 5, "attitude": 5},
    )
    return 1


@transaction.atomic
def load_demo() -> dict[str, int]:
    from zwfw.core.models import AuditRecord
    from zwfw.ratings.models import Rating, Rectification

    made = 0
    if not AuditRecord.objects.filter(action=DEMO_MARK).exists():
        made = _j4_rating() + _j7_rating()
        audit.record(DEMO_MARK, "ratings.rating", "", after={"ratings": made}, actor=ACTOR)
    return {
        "ratings_made": made,
        "ratings": Rating.objects.count(),
        "rectifications_open": Rectification.objects.exclude(
            status__in=["closed", "appeal_upheld"]
        ).count(),
    }
