"""Fixtures of the supervision tests: 广安市 departments under the city government, another
city's department, staff of each role, a published 承诺件 item and a case builder that writes
case rows directly (the rules read rows; the case services have their own tests)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from zwfw.cases import clock
from zwfw.cases.models import Case, CaseEvent, CaseTask
from zwfw.catalog.content import validate_content
from zwfw.catalog.services import publish_content
from zwfw.catalog.tests import factories as catalog_factories
from zwfw.core import calendar as cal
from zwfw.core.calendar import seed_calendar
from zwfw.identity.models import User
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Department, Division, Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARKET = "广安市市场监督管理局"
PLANNING = "广安市自然资源和规划局"
CITY_GOVERNMENT = "广安市人民政府"
SERVICE_BUREAU = "广安市政务服务管理局"
OTHER_CITY = "南充市市场监督管理局"


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    """Noon (Beijing time) of ``day``: the ``now`` of a rule run."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def staff(username: str, role: str, department: Department, name: str = "工作人员") -> User:
    user = User.objects.create_user(username, password="x" * 12, kind="staff", real_name=name)
    organisations.grant_role(user=user, department=department, role=role)
    return user


_numbers = itertools.count(1)


@pytest.fixture
def sv(db: None) -> dict[str, Any]:
    seed_calendar()
    government = catalog_factories.department(CITY_GOVERNMENT)
    market = catalog_factories.department(MARKET)
    planning = catalog_factories.department(PLANNING)
    bureau = catalog_factories.department(SERVICE_BUREAU)
    Department.objects.filter(pk__in=[market.pk, planning.pk, bureau.pk]).update(parent=government)
    market.refresh_from_db()
    nanchong, _ = Division.objects.get_or_create(
        code="511300",
        defaults={"name": "南充市", "level": 2, "parent_id": "510000", "full_name": "四川省南充市"},
    )
    other = Department.objects.create(division=nanchong, name=OTHER_CITY, level=3)
    content = validate_content(catalog_factories.content())
    with transaction.atomic():
        item, _version = publish_content(content, department=market, actor="test")
    item.refresh_from_db()
    users = {
        "supervisor": staff("supervisor", Role.SUPERVISOR, bureau, "赵刚"),
        "other_supervisor": staff("nc_supervisor", Role.SUPERVISOR, other, "南充监察"),
        "market_admin": staff("market_admin", Role.DEPARTMENT_ADMIN, market, "吴芳"),
        "government_admin": staff("gov_admin", Role.DEPARTMENT_ADMIN, government, "钱进"),
        "market_reviewer": staff("reviewer", Role.REVIEWER, market, "刘洋"),
        "planning_reviewer": staff("planner", Role.REVIEWER, planning, "规划审查员"),
        "node_admin": staff("node_admin", Role.NODE_ADMIN, bureau, "平台管理员"),
        "citizen": User.objects.create_user(
            "lina", password="x" * 12, kind="person", real_name="李娜", trust_level="L3"
        ),
    }
    return {
        "government": government,
        "market": market,
        "planning": planning,
        "bureau": bureau,
        "other": other,
        "item": item,
        **users,
    }


def make_case(sv: dict[str, Any], **fields: Any) -> Case:
    """A case row of the fixture's item; the due date follows the clock fields."""
    item = sv["item"]
    values: dict[str, Any] = {
        "number": f"511600202610{next(_numbers):08d}",
        "status": "in_progress",
        "item": item,
        "item_version": item.current_version,
        "item_name": item.name,
        "implementation_code": item.implementation_code,
        "case_type": "2",
        "department": sv["market"],
        "division_code": "511600",
        "applicant_kind": "person",
        "applicant_user": sv["citizen"],
        "applicant_name": "李娜",
        "applicant_id_type": "111",
        "applicant_id_number": "511602199201200023",
        "channel": "2",
        "limit_days": 10,
        "limit_unit": "working",
        "clock_start": dt.date(2026, 9, 28),
    }
    values.update(fields)
    case = Case(**values)
    if "due_date" not in fields:
        case.due_date = clock.compute_due(cal.calendar_snapshot(), case)
    case.save()
    return case


def add_task(case: Case, **fields: Any) -> CaseTask:
    import uuid

    from django.utils import timezone

    values: dict[str, Any] = {
        "case": case,
        "spiff_id": uuid.uuid4(),
        "bpmn_id": "review",
        "name": "审查",
        "kind": "review",
        "department": case.department,
        "role": "reviewer",
        "status": "open",
        "created_at": timezone.now(),
    }
    values.update(fields)
    return CaseTask.objects.create(**values)


def add_event(case: Case, kind: str, **fields: Any) -> CaseEvent:
    from django.utils import timezone

    values: dict[str, Any] = {
        "case": case,
        "kind": kind,
        "step_name": kind,
        "started_at": timezone.now(),
        "department": case.department,
    }
    values.update(fields)
    return CaseEvent.objects.create(**values)


@pytest.fixture
def freeze(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``freeze(moment)``: ``timezone.now()`` returns ``moment`` from then on."""
    from django.utils import timezone

    def _freeze(moment: dt.datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return _freeze
