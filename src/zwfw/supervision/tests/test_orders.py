"""督办 orders: from a warning or by hand, replies, closing, escalation to the parent
department by the sweep, card counts; who may do what, and that a refusal changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from zwfw.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.supervision import engine, selectors, services
from zwfw.supervision.models import Order, Warning
from zwfw.supervision.tests.conftest import at, make_case

D = dt.date


@pytest.fixture
def yellow(sv) -> Warning:
    make_case(sv)
    engine.run_rules(full=True, now=at(D(2026, 10, 14)))
    return Warning.objects.get(rule__code="R02")


def test_order_from_a_warning(sv, yellow, freeze) -> None:
    freeze(at(D(2026, 10, 14)))
    order = services.create_order(sv["supervisor"], warning_number=yellow.number)
    # Wednesday 10-14 + 2 working days = Friday 10-16; card follows the warning's colour.
    assert order.response_deadline == D(2026, 10, 16)
    assert (order.department, order.case, order.card) == (sv["market"], yellow.case, "yellow")
    assert order.reason == yellow.description
    assert order.number.startswith("DB20261014")
    assert AuditRecord.objects.filter(action="supervision:order:issue", object_id=order.pk).exists()
    with pytest.raises(Conflict):
        services.create_order(sv["supervisor"], warning_number=yellow.number)
    assert Order.objects.count() == 1


def test_order_by_hand_over_national_day(sv, freeze) -> None:
    freeze(at(D(2026, 9, 30)))
    order = services.create_order(
        sv["supervisor"], department_id=sv["planning"].pk, reason="群众反映办理缓慢", card="red"
    )
    # 09-30 + 2 working days: 10-01…10-07 are holidays → 10-08, 10-09.
    assert order.response_deadline == D(2026, 10, 9)
    assert (order.department, order.card, order.case) == (sv["planning"], "red", None)


@pytest.mark.parametrize("who", ["market_admin", "market_reviewer", "other_supervisor", "citizen"])
def test_only_a_supervisor_of_the_node_issues_orders(sv, yellow, who) -> None:
    with pytest.raises(PermissionDenied):
        services.create_order(sv[who], warning_number=yellow.number)
    assert not Order.objects.exists()


def test_order_input_errors(sv, yellow) -> None:
    with pytest.raises(ValidationError):
        services.create_order(sv["supervisor"], department_id=sv["market"].pk, reason="  ")
    with pytest.raises(ValidationError):
        services.create_order(sv["supervisor"], reason="无部门")
    with pytest.raises(NotFound):
        services.create_order(sv["supervisor"], warning_number="JC000")
    with pytest.raises(NotFound):
        services.create_order(sv["supervisor"], department_id=999999, reason="x")
    with pytest.raises(ValidationError):
        services.create_order(sv["supervisor"], warning_number=yellow.number, card="green")
    assert not Order.objects.exists()


def test_reply_and_close(sv, yellow) -> None:
    order = services.create_order(sv["supervisor"], warning_number=yellow.number)
    with pytest.raises(PermissionDenied):
        services.respond_order(sv["market_reviewer"], order.number, "已处理")
    with pytest.raises(PermissionDenied):
        services.close_order(sv["market_admin"], order.number)
    order.refresh_from_db()
    assert order.status == "open"
    services.respond_order(sv["market_admin"], order.number, "已电话联系申请人，明日办结")
    order.refresh_from_db()
    assert (order.status, order.responded_by_name) == ("responded", "吴芳")
    with pytest.raises(Conflict):
        services.respond_order(sv["market_admin"], order.number, "再次回复")
    services.close_order(sv["supervisor"], order.number, "情况属实")
    order.refresh_from_db()
    assert order.status == "closed"
    actions = set(
        AuditRecord.objects.filter(object_type="supervision.order").values_list("action", flat=True)
    )
    assert actions == {
        "supervision:order:issue",
        "supervision:order:respond",
        "supervision:order:close",
    }


def test_unanswered_orders_escalate_to_the_parent_department(sv, yellow, freeze) -> None:
    freeze(at(D(2026, 10, 14)))
    order = services.create_order(sv["supervisor"], warning_number=yellow.number)
    answered = services.create_order(sv["supervisor"], department_id=sv["market"].pk, reason="另案")
    services.respond_order(sv["market_admin"], answered.number, "已办")
    # Deadline 10-16: on the deadline nothing happens; the day after, the sweep escalates.
    assert services.escalate_orders(today=D(2026, 10, 16)) == 0
    summary = engine.run_rules(full=True, now=at(D(2026, 10, 17)))
    assert summary["orders_escalated"] == 1
    order.refresh_from_db()
    assert (order.status, order.escalated_to, order.escalation_level, order.card) == (
        "escalated",
        sv["government"],
        1,
        "red",
    )
    # 10-17 (Sat) + 2 working days = 10-20.
    assert order.response_deadline == D(2026, 10, 20)
    answered.refresh_from_db()
    assert answered.status == "responded"
    # 10-17 also turned the warning red, and R03 opened its own order (deadline 10-20).
    red_order = Order.objects.get(warning__rule__code="R03")
    assert (red_order.response_deadline, red_order.card) == (D(2026, 10, 20), "red")
    # On 10-21 that one escalates; the first is at the city government, which has no parent:
    # it is not escalated again and just stays overdue.
    assert services.escalate_orders(today=D(2026, 10, 21)) == 1
    order.refresh_from_db()
    assert (order.escalation_level, order.escalated_to) == (1, sv["government"])
    red_order.refresh_from_db()
    assert (red_order.escalation_level, red_order.escalated_to) == (1, sv["government"])
    # The parent's admin may answer the escalated order.
    services.respond_order(sv["government_admin"], order.number, "已责成市场监管局办结")
    order.refresh_from_db()
    assert order.status == "responded"
    assert AuditRecord.objects.filter(action="supervision:order:escalate").count() == 2


def test_card_counts_per_department(sv, yellow) -> None:
    services.create_order(sv["supervisor"], warning_number=yellow.number)
    services.create_order(sv["supervisor"], department_id=sv["market"].pk, reason="a", card="red")
    services.create_order(sv["supervisor"], department_id=sv["planning"].pk, reason="b")
    counts = selectors.card_counts()
    assert counts == {
        sv["market"].pk: {"yellow": 1, "red": 1},
        sv["planning"].pk: {"yellow": 1, "red": 0},
    }
    assert selectors.card_counts(department_ids=[sv["planning"].pk]) == {
        sv["planning"].pk: {"yellow": 1, "red": 0}
    }


def test_rule_update_is_node_admin_only(sv) -> None:
    with pytest.raises(PermissionDenied):
        services.update_rule(sv["supervisor"], "R02", percent=70)
    rule = services.update_rule(sv["node_admin"], "R02", percent=70)
    assert rule.parameters["percent"] == 70
    assert engine.percent_of(rule) == 70
    with pytest.raises(Conflict):
        services.update_rule(sv["node_admin"], "R07", enabled=True)
    with pytest.raises(ValidationError):
        services.update_rule(sv["node_admin"], "R03", percent=70)
    with pytest.raises(NotFound):
        services.update_rule(sv["node_admin"], "R99", enabled=False)
    assert AuditRecord.objects.filter(action="supervision:rule:update").count() == 1
