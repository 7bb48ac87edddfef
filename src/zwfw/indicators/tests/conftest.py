"""A tiny world with hand-countable figures (see the expected values in test_indicators.py).

Departments A (市场监管) and B (规划); three published items; nine cases, seven ratings, four
warnings, two orders, three rectifications — dated in March and April 2026 (Beijing time), with
edge cases at the day boundaries (closed at 23:30 on the due day; closed at 00:30 Beijing on
the 1st, which is still the previous day in UTC).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from zwfw.catalog.content import validate_content
from zwfw.catalog.services import publish_content
from zwfw.catalog.tests import factories as catalog_factories
from zwfw.identity.models import User
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Department, Role

BJ = ZoneInfo("Asia/Shanghai")
MARKET = "广安市市场监督管理局"
PLANNING = "广安市自然资源和规划局"


def at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=BJ)


def staff(username: str, role: str, department: Department) -> User:
    user = User.objects.create_user(username, password="x" * 12, kind="staff", real_name=username)
    organisations.grant_role(user=user, department=department, role=role)
    return user


def publish(department: Department, **overrides: Any) -> Any:
    content = validate_content(catalog_factories.content(**overrides))
    with transaction.atomic():
        item, _version = publish_content(content, department=department, actor="test")
    item.refresh_from_db()
    return item


def make_case(
    number: str,
    item: Any,
    applicant: User,
    *,
    status: str = "closed",
    channel: str = "2",
    submitted: dt.datetime,
    closed: dt.datetime | None = None,
    due: str | None = None,
    delivery: str = "",
) -> Any:
    from zwfw.cases.models import Case

    return Case.objects.create(
        number=number,
        status=status,
        item=item,
        item_version=item.current_version,
        item_name=item.name,
        implementation_code=item.implementation_code,
        case_type="2",
        department=item.department,
        division_code="511600",
        applicant_kind="person",
        applicant_user=applicant,
        applicant_name="李娜",
        applicant_id_type="111",
        applicant_id_number="511602199201200023",
        channel=channel,
        submitted_at=submitted,
        closed_at=closed,
        due_date=dt.date.fromisoformat(due) if due else None,
        delivery_method=delivery,
    )


def build_world() -> dict[str, Any]:
    from zwfw.ratings.models import Rating, Rectification
    from zwfw.supervision.models import Order, Rule, Warning

    market = catalog_factories.department(MARKET)
    planning = catalog_factories.department(PLANNING)
    item1 = publish(market)  # depth IV, 0 visits, channels 1 2, delivery, complete guide
    item2 = publish(
        market,
        name="食品经营许可（变更）",
        basic_code="XK00012003",
        implementation_code="XK00012003-3-511600-11511600511600040M-01",
        channels=["1"],
        online_steps=["1"],
        online_url="",
        site_visits=2,
        site_visit_reason="现场核查经营场所",
        supports_delivery=False,
        supports_appointment=True,
        charges_fee=True,
        fees=[{"name": "工本费", "amount": "10"}],
        place="",
        consult_phone="",
        faqs=[],
    )
    item3 = publish(
        planning,
        name="建设工程规划许可",
        basic_code="XK00012004",
        implementation_code="XK00012004-3-511600-11511600511600040M-02",
        implementing_body={"name": PLANNING, "uscc": ""},
        channels=["1", "3"],
        online_steps=["2", "4"],
        site_visits=1,
        site_visit_reason="领取纸质证照",
        supports_delivery=False,
        supports_appointment=True,
        supports_online_payment=True,
        charges_fee=True,
        fees=[{"name": "工本费", "amount": "20"}],
    )
    person = User.objects.create_user(
        "lina", password="x" * 12, kind="person", real_name="李娜", trust_level="L3"
    )
    cases = {
        "c1": make_case("511600202603020001", item1, person, submitted=at("2026-03-02"),
                        closed=at("2026-03-10", "15:00"), due="2026-03-12", delivery="electronic"),
        "c2": make_case("511600202603030001", item1, person, channel="1",
                        submitted=at("2026-03-03"), closed=at("2026-03-20"), due="2026-03-18",
                        delivery="window"),
        "c3": make_case("511600202603050001", item2, person, submitted=at("2026-03-05"),
                        closed=at("2026-03-31", "23:30"), due="2026-03-31",
                        delivery="electronic"),
        "c4": make_case("511600202603060001", item1, person, status="in_progress",
                        submitted=at("2026-03-06"), due="2026-04-10"),
        "c5": make_case("511600202602270001", item1, person, submitted=at("2026-02-27"),
                        closed=at("2026-03-01", "00:30"), due="2026-02-28",
                        delivery="electronic"),
        "c6": make_case("511600202604020001", item1, person, submitted=at("2026-04-02"),
                        closed=at("2026-04-08"), due="2026-04-20", delivery="electronic"),
        "c7": make_case("511600202603090001", item2, person, status="refused", channel="1",
                        submitted=at("2026-03-09"), closed=at("2026-03-10")),
        "c8": make_case("511600202603110001", item3, person, submitted=at("2026-03-11"),
                        closed=at("2026-03-25"), delivery="post"),
        "c9": make_case("511600202603120001", item3, person, submitted=at("2026-03-12"),
                        closed=at("2026-03-13"), due="2026-03-20", delivery="electronic"),
    }  # fmt: skip

    def rate(key: str, case: Any, level: int, day: str, *, excluded: bool = False) -> Any:
        rating = Rating.objects.create(
            kind="case" if case is not None else "visit",
            case=case,
            visit_reference="" if case is not None else f"V-{key}",
            department=case.department if case is not None else planning,
            item=case.item if case is not None else item3,
            level=level,
            channel="1",
            excluded=excluded,
        )
        Rating.objects.filter(pk=rating.pk).update(created_at=at(day, "12:00"))
        rating.refresh_from_db()
        return rating

    ratings = {
        "r1": rate("r1", cases["c1"], 1, "2026-03-11"),
        "r2": rate("r2", cases["c2"], 5, "2026-03-21"),
        "r3": rate("r3", cases["c3"], 2, "2026-03-31"),
        "r4": rate("r4", cases["c9"], 4, "2026-03-14"),
        "r5": rate("r5", None, 3, "2026-03-15"),
        "r6": rate("r6", cases["c5"], 5, "2026-03-02", excluded=True),
        "r7": rate("r7", cases["c6"], 2, "2026-04-09"),
    }
    for key, status in (("r2", "ledger"), ("r4", "fixed"), ("r6", "appeal_upheld")):
        rating = ratings[key]
        Rectification.objects.create(
            rating=rating,
            department=rating.department,
            status=status,
            opened_at=rating.created_at,
            deadline=dt.date(2026, 4, 30),
        )
    rule, _ = Rule.objects.get_or_create(
        code="T99", defaults={"name": "测试规则", "severity": "yellow"}
    )
    warnings = []
    for number, case, severity, day, status in (
        ("JC20260315001", cases["c2"], "red", "2026-03-15", "open"),
        ("JC20260312001", cases["c2"], "yellow", "2026-03-12", "cleared"),
        ("JC20260313001", cases["c9"], "yellow", "2026-03-13", "open"),
        ("JC20260405001", cases["c6"], "orange", "2026-04-05", "open"),
    ):
        warnings.append(
            Warning.objects.create(
                number=number,
                case=case,
                rule=rule,
                severity=severity,
                department=case.department,
                raised_at=at(day),
                updated_at=at(day),
                status=status,
                description="测试预警",
            )
        )
    Order.objects.create(
        number="DB20260315001",
        warning=warnings[0],
        case=cases["c2"],
        department=market,
        issued_by="system:supervision",
        reason="办件超期",
        issued_at=at("2026-03-15"),
        response_deadline=dt.date(2026, 3, 17),
        status="open",
        card="red",
    )
    Order.objects.create(
        number="DB20260313001",
        warning=warnings[2],
        case=cases["c9"],
        department=planning,
        issued_by="system:supervision",
        reason="临近超期",
        issued_at=at("2026-03-13"),
        response_deadline=dt.date(2026, 3, 16),
        status="responded",
        card="yellow",
    )
    users = {
        "supervisor": staff("supervisor", Role.SUPERVISOR, market),
        "node_admin": staff("node_admin", Role.NODE_ADMIN, market),
        "market_clerk": staff("market_clerk", Role.CLERK, market),
        "planning_reviewer": staff("planning_reviewer", Role.REVIEWER, planning),
        "person": person,
    }
    from zwfw.indicators import rollups

    rollups.refresh()
    return {
        "market": market,
        "planning": planning,
        "items": (item1, item2, item3),
        "cases": cases,
        "ratings": ratings,
        **users,
    }


@pytest.fixture
def world(db: None, settings: Any) -> dict[str, Any]:
    settings.INDICATORS_WARNING_CEILING = 1000
    return build_world()


MARCH = ("2026-03-01", "2026-03-31")
WEIGHT_SUM = Decimal(100)
