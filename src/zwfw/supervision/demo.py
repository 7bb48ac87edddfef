"""Demo data of 电子监察 (J4): two 承诺件 of 市场监督管理局 past 80 % and past 100 % of their
promised working days, the rules run over every demo case, and a department admin to reply.

- 吴芳 (``dept_admin``) is the department admin of 广安市市场监督管理局: she answers 督办 orders.
- Two 食品经营许可 applications by 王强 for the journey company are accepted through the case
  services, then their clock start is moved back (the only direct write: a demo cannot wait
  ten working days) — one to 80 % of its limit (yellow warning, R02), one two working days past
  its due date (red warning, R03, which opens a 督办 order with a 2-working-day deadline).
- Then one full rule pass over all demo cases.

Loading twice changes nothing (the cases are made once; the pass is idempotent).
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from zwfw.core import audit
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Department, Role

ACTOR = "system:load_demo"
MARKET = "广安市市场监督管理局"
J2_ITEM = "XK00201000-3-511600-11511600511600040H-01"  # 食品经营许可
DEMO_MARK = "supervision:demo:cases"


def load_department_admin() -> int:
    from zwfw.core.demo import DEMO_PASSWORD

    market = Department.objects.filter(name=MARKET).first()
    if market is None:
        return 0
    users = get_user_model()
    user = users.objects.filter(username="dept_admin").first()
    created = 0
    if user is None:
        user = users.objects.create_user(
            "dept_admin",
            password=DEMO_PASSWORD,
            real_name="吴芳",
            kind="staff",
            is_staff=True,
        )
        created = 1
    organisations.grant_role(user=user, department=market, role=Role.DEPARTMENT_ADMIN)
    return created


def _backdate(case: Any, used_days: int) -> None:
    """Move the clock start back so that ``used_days`` working days are used today."""
    from zwfw.cases import clock
    from zwfw.cases.models import Case
    from zwfw.core import calendar as cal

    calendar = cal.calendar_snapshot()
    today = cal.local_date(timezone.now())
    case.clock_start = calendar.add_working_days(today, -used_days)
    case.due_date = clock.compute_due(calendar, case)
    Case.objects.filter(pk=case.pk).update(clock_start=case.clock_start, due_date=case.due_date)


def load_late_cases() -> int:
    """The two J4 cases (once: an audit entry marks that they were made)."""
    from zwfw.cases import services
    from zwfw.cases.demo import _fill_materials
    from zwfw.core.models import AuditRecord
    from zwfw.identity.models import Company, User
    from zwfw.registries.demo import JOURNEY_COMPANY

    if AuditRecord.objects.filter(action=DEMO_MARK).exists():
        return 0
    company = Company.objects.filter(uscc=JOURNEY_COMPANY.uscc).first()
    agent = User.objects.filter(real_name="王强", kind="person").first()
    clerk = User.objects.filter(username="clerk").first()
    if company is None or agent is None or clerk is None:
        return 0
    made = []
    for share in (0.8, None):
        case = services.create_draft(agent, J2_ITEM, acting_uscc=company.uscc)
        _fill_materials(agent, case, company.uscc)
        services.submit(agent, case, acting_uscc=company.uscc)
        case = services.accept(clerk, case, opinion="材料齐全，予以受理")
        limit = max(case.limit_days, 1)
        # 80 %: the yellow case; None: two working days past the limit (red).
        used = math.ceil(limit * share) if share else limit + 2
        _backdate(case, used)
        made.append(case.number)
    audit.record(DEMO_MARK, "cases.case", "", after={"cases": made}, actor=ACTOR)
    return len(made)


@transaction.atomic
def load_demo() -> dict[str, int]:
    from zwfw.supervision import engine
    from zwfw.supervision.models import Warning

    admins = load_department_admin()
    late = load_late_cases()
    engine.run_rules(full=True)
    return {
        "supervision_admins": admins,
        "supervision_late_cases": late,
        "supervision_open_warnings": Warning.objects.filter(status="open").count(),
    }
