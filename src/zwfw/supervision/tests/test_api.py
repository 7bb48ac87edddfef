"""The supervision API per role: supervisors see their node, department staff their own
department, citizens nothing (403, nothing changed); filters, pages, query counts, errors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from zwfw.organisations.models import Department
from zwfw.supervision import engine
from zwfw.supervision.models import Order, Rule, Warning
from zwfw.supervision.tests.conftest import add_task, at, make_case

pytestmark = pytest.mark.django_db

API = "/api/v1/supervision"
D = dt.date
ERROR_KEYS = {"code", "message", "message_en", "details", "request_id"}


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def warned(sv) -> dict[str, Any]:
    """Two market cases at 80 % (yellow), one overdue (red, with an order), a planning case
    with an overdue step, and a case of another city (overdue)."""
    yellow = [make_case(sv), make_case(sv)]
    red = make_case(sv, clock_start=D(2026, 9, 14))
    planning = make_case(sv, department=sv["planning"], clock_start=D(2026, 10, 12))
    add_task(planning, due_date=D(2026, 10, 13), department=sv["planning"])
    other = make_case(sv, department=sv["other"], clock_start=D(2026, 9, 14))
    engine.run_rules(full=True, now=at(D(2026, 10, 14)))
    return {"yellow": yellow, "red": red, "planning": planning, "other": other}


def numbers(response: Any) -> set[str]:
    return {w["case_number"] for w in response.json()["items"]}


def test_supervisor_sees_the_node_and_not_another_city(sv, warned) -> None:
    response = login(sv["supervisor"]).get(f"{API}/warnings")
    assert response.status_code == 200
    expected = {c.number for c in [*warned["yellow"], warned["red"], warned["planning"]]}
    assert numbers(response) == expected
    other = login(sv["other_supervisor"]).get(f"{API}/warnings")
    assert numbers(other) == {warned["other"].number}


def test_department_staff_see_their_department_only(sv, warned) -> None:
    response = login(sv["planning_reviewer"]).get(f"{API}/warnings")
    assert numbers(response) == {warned["planning"].number}
    response = login(sv["market_reviewer"]).get(f"{API}/warnings?severity=red")
    assert numbers(response) == {warned["red"].number}
    foreign = Warning.objects.get(case=warned["planning"]).number
    assert login(sv["market_reviewer"]).get(f"{API}/warnings/{foreign}").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/warnings", "/warnings/summary", "/orders", "/rules", "/warnings/JC1", "/orders/DB1"],
)
def test_citizens_get_403(sv, warned, path) -> None:
    response = login(sv["citizen"]).get(f"{API}{path}")
    assert response.status_code == 403
    assert set(response.json()) == ERROR_KEYS


def test_anonymous_gets_401(sv) -> None:
    assert Client().get(f"{API}/warnings").status_code == 401


def test_citizen_writes_change_nothing(sv, warned) -> None:
    client = login(sv["citizen"])
    warning = Warning.objects.get(case=warned["yellow"][0]).number
    order = Order.objects.get(department=sv["market"]).number
    assert post(client, f"{API}/orders", {"warning": warning}).status_code == 403
    # No probing: an unknown warning number gets the same 403 as a real one.
    assert post(client, f"{API}/orders", {"warning": "JC000"}).status_code == 403
    assert post(client, f"{API}/orders/{order}/response", {"response": "x"}).status_code == 403
    assert post(client, f"{API}/orders/{order}/close", {}).status_code == 403
    patch = client.patch(
        f"{API}/rules/R02", json.dumps({"percent": 10}), content_type="application/json"
    )
    assert patch.status_code == 403
    assert Order.objects.count() == 2  # the R03 orders of the two overdue cases
    assert set(Order.objects.values_list("status", flat=True)) == {"open"}
    assert Rule.objects.get(code="R02").parameters == {}


def test_filters_and_pages(sv, warned) -> None:
    client = login(sv["supervisor"])
    first = client.get(f"{API}/warnings?limit=2").json()
    second = client.get(f"{API}/warnings?limit=2&cursor={first['next_cursor']}").json()
    seen = [w["number"] for w in first["items"] + second["items"]]
    assert len(seen) == len(set(seen)) == 4
    assert second["next_cursor"] is None
    by_rule = client.get(f"{API}/warnings?rule=R01").json()["items"]
    assert [w["case_number"] for w in by_rule] == [warned["planning"].number]
    by_case = client.get(f"{API}/warnings?case={warned['red'].number}").json()["items"]
    assert [(w["rule"], w["severity"]) for w in by_case] == [("R03", "red")]
    market = client.get(f"{API}/warnings?department={sv['market'].pk}&status=open").json()
    assert len(market["items"]) == 3
    assert client.get(f"{API}/warnings?severity=purple").status_code == 422
    bad = client.get(f"{API}/warnings?cursor=nonsense")
    assert bad.status_code == 400
    assert set(bad.json()) == ERROR_KEYS
    assert client.get(f"{API}/warnings?limit=0").status_code == 400


def test_warning_list_query_count_does_not_grow(sv, warned, django_assert_max_num_queries) -> None:
    client = login(sv["supervisor"])
    client.get(f"{API}/warnings")  # warm the session
    with django_assert_max_num_queries(8):
        response = client.get(f"{API}/warnings?limit=50")
    assert len(response.json()["items"]) == 4
    for _ in range(10):
        make_case(sv)
    engine.run_rules(full=True, now=at(D(2026, 10, 14), 15))
    with django_assert_max_num_queries(8):
        response = client.get(f"{API}/warnings?limit=50")
    assert len(response.json()["items"]) == 14


def test_summary_counts_by_severity_and_department(sv, warned) -> None:
    body = login(sv["supervisor"]).get(f"{API}/warnings/summary").json()
    assert body["total"] == 4
    assert body["by_severity"] == {"yellow": 2, "orange": 1, "red": 1}
    rows = {row["department"]: row for row in body["by_department"]}
    assert (rows["广安市市场监督管理局"]["yellow"], rows["广安市市场监督管理局"]["red"]) == (2, 1)
    assert rows["广安市自然资源和规划局"]["orange"] == 1
    assert "南充市市场监督管理局" not in rows
    own = login(sv["planning_reviewer"]).get(f"{API}/warnings/summary").json()
    assert own["by_severity"] == {"yellow": 0, "orange": 1, "red": 0}


def test_order_round_trip(sv, warned) -> None:
    supervisor = login(sv["supervisor"])
    warning = Warning.objects.get(case=warned["yellow"][0]).number
    created = post(supervisor, f"{API}/orders", {"warning": warning, "reason": "请说明进度"})
    assert created.status_code == 201
    order = created.json()
    assert (order["warning"], order["department"], order["card"]) == (
        warning,
        "广安市市场监督管理局",
        "yellow",
    )
    number = order["number"]
    listed = supervisor.get(f"{API}/orders?status=open").json()["items"]
    assert number in {o["number"] for o in listed}
    # The planning reviewer cannot see the market's order; the market admin answers it.
    assert login(sv["planning_reviewer"]).get(f"{API}/orders/{number}").status_code == 404
    reviewer = login(sv["market_reviewer"])
    denied = post(reviewer, f"{API}/orders/{number}/response", {"response": "已处理"})
    assert denied.status_code == 403
    admin = login(sv["market_admin"])
    assert post(admin, f"{API}/orders/{number}/response", {"response": ""}).status_code == 400
    answered = post(admin, f"{API}/orders/{number}/response", {"response": "已办结"})
    assert answered.json()["status"] == "responded"
    closed = post(supervisor, f"{API}/orders/{number}/close", {"note": "属实"})
    assert closed.json()["status"] == "closed"
    again = post(supervisor, f"{API}/orders/{number}/close", {})
    assert again.status_code == 409


def test_orders_by_hand_and_bad_input(sv, warned) -> None:
    supervisor = login(sv["supervisor"])
    by_case = post(
        supervisor, f"{API}/orders", {"case": warned["planning"].number, "reason": "群众投诉"}
    )
    assert by_case.status_code == 201
    assert by_case.json()["department"] == "广安市自然资源和规划局"
    assert post(supervisor, f"{API}/orders", {"reason": "无对象"}).status_code == 400
    assert post(supervisor, f"{API}/orders", {"case": "X", "reason": "x"}).status_code == 404
    assert post(supervisor, f"{API}/orders", {"warning": "J" * 500}).status_code == 422
    foreign = post(supervisor, f"{API}/orders", {"department_id": sv["other"].pk, "reason": "越权"})
    assert foreign.status_code == 403
    assert Order.objects.filter(department=sv["other"]).count() == 1  # only R03's own
    huge = post(supervisor, f"{API}/orders", {"department_id": 2**70, "reason": "x"})
    assert huge.status_code == 422


def test_rules_list_and_patch(sv) -> None:
    rules = login(sv["supervisor"]).get(f"{API}/rules").json()
    by_code = {r["code"]: r for r in rules}
    assert sorted(by_code) == [f"R0{i}" for i in range(1, 9)]
    assert (by_code["R02"]["percent"], by_code["R06"]["max_days"]) == (80, 60)
    assert (by_code["R07"]["enabled"], by_code["R07"]["available"]) == (False, False)
    supervisor_patch = login(sv["supervisor"]).patch(
        f"{API}/rules/R02", json.dumps({"percent": 70}), content_type="application/json"
    )
    assert supervisor_patch.status_code == 403
    admin = login(sv["node_admin"])
    patched = admin.patch(
        f"{API}/rules/R02", json.dumps({"percent": 70}), content_type="application/json"
    )
    assert patched.status_code == 200
    assert patched.json()["percent"] == 70
    off = admin.patch(
        f"{API}/rules/R08", json.dumps({"enabled": False}), content_type="application/json"
    )
    assert off.json()["enabled"] is False
    fee = admin.patch(
        f"{API}/rules/R07", json.dumps({"enabled": True}), content_type="application/json"
    )
    assert fee.status_code == 409
    unknown = admin.patch(
        f"{API}/rules/R99", json.dumps({"enabled": True}), content_type="application/json"
    )
    assert unknown.status_code == 404
    bad = admin.patch(
        f"{API}/rules/R02", json.dumps({"percent": 0}), content_type="application/json"
    )
    assert bad.status_code == 422


def test_node_admin_sees_every_department(sv, warned) -> None:
    response = login(sv["node_admin"]).get(f"{API}/warnings?limit=50")
    assert warned["other"].number in numbers(response)
    assert Department.objects.count() >= 5
