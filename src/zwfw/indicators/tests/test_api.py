"""The indicators API, the export and the dashboard page, role by role."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from zwfw.core.models import AuditRecord
from zwfw.indicators.models import IndicatorSnapshot, IndicatorWeight

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
BASE = "/api/v1/indicators"


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def second(result: dict[str, Any], code: str) -> dict[str, Any]:
    for first in result["indicators"]:
        for child in first["children"]:
            if child["code"] == code:
                return child
    raise KeyError(code)


# --- who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "node_admin"])
def test_node_viewers_see_the_node(world: dict[str, Any], role: str) -> None:
    response = client_for(world[role]).get(f"{BASE}/", MARCH)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == {"node": True, "departments": []}
    assert body["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert second(body, "on_time_rate")["numerator"] == 3
    assert second(body, "on_time_rate")["denominator"] == 5


def test_node_viewer_may_pick_a_department(world: dict[str, Any]) -> None:
    planning = world["planning"]
    body = (
        client_for(world["supervisor"]).get(f"{BASE}/", {**MARCH, "department": planning.pk}).json()
    )
    assert body["scope"]["departments"] == [{"id": planning.pk, "name": planning.name}]
    # B in March: c8 c9 submitted online; c8 c9 closed, c9 with a due date and on time
    online = second(body, "online_submission_rate")
    assert (online["numerator"], online["denominator"]) == (2, 2)
    assert second(body, "on_time_rate")["value"] == 1.0


def test_department_staff_see_their_own_department_only(world: dict[str, Any]) -> None:
    client = client_for(world["market_clerk"])
    own = client.get(f"{BASE}/", MARCH)
    assert own.status_code == 200
    assert own.json()["scope"]["departments"] == [
        {"id": world["market"].pk, "name": world["market"].name}
    ]
    assert second(own.json(), "on_time_rate")["denominator"] == 4
    other = client.get(f"{BASE}/", {**MARCH, "department": world["planning"].pk})
    assert other.status_code == 403
    assert other.json()["code"] == "indicators.forbidden"
    assert client.get(f"{BASE}/dashboard", {"department": world["planning"].pk}).status_code == 403


def test_applicants_and_anonymous_are_refused(world: dict[str, Any]) -> None:
    assert client_for(world["person"]).get(f"{BASE}/", MARCH).status_code == 403
    assert client_for(world["person"]).get(f"{BASE}/dashboard").status_code == 403
    assert client_for(world["person"]).get(f"{BASE}/export").status_code == 403
    assert client_for(None).get(f"{BASE}/", MARCH).status_code == 401


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2026-04-01", "to": "2026-03-01"}, "indicators.period_reversed"),
        ({"period": "2026-13"}, "indicators.period_invalid"),
        ({"period": "x" * 10}, "indicators.period_invalid"),
    ],
)
def test_bad_filters_are_400(world: dict[str, Any], params: dict[str, str], code: str) -> None:
    response = client_for(world["supervisor"]).get(f"{BASE}/", params)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_malformed_query_values_are_not_500(world: dict[str, Any]) -> None:
    client = client_for(world["supervisor"])
    for params in ({"from": "yesterday"}, {"department": "abc"}, {"department": "0"}):
        assert client.get(f"{BASE}/", params).status_code in {400, 422}
    assert client.get(f"{BASE}/", {"department": 999999}).status_code == 404


# --- trend and dashboard ------------------------------------------------------------------------


def test_trend(world: dict[str, Any]) -> None:
    body = (
        client_for(world["supervisor"])
        .get(f"{BASE}/trend", {"from": "2026-03-01", "to": "2026-04-30"})
        .json()
    )
    assert [(m["month"], m["on_time_rate"], m["satisfaction_rate"]) for m in body["months"]] == [
        ("2026-03", 0.6, 0.4),
        ("2026-04", 1.0, 1.0),
    ]


def test_dashboard_counts(world: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    client = client_for(world["supervisor"])
    with django_assert_max_num_queries(14):
        response = client.get(f"{BASE}/dashboard", MARCH)
    body = response.json()
    assert response.status_code == 200
    severity = {
        row["severity"]: (row["total"], row["open"]) for row in body["warnings"]["by_severity"]
    }
    assert severity == {"yellow": (2, 1), "orange": (0, 0), "red": (1, 1)}
    by_department = {row["department"]: row for row in body["warnings"]["by_department"]}
    assert by_department[world["market"].name]["total"] == 2
    assert by_department[world["market"].name]["red"] == 1
    assert by_department[world["planning"].name]["yellow"] == 1
    assert by_department[world["market"].name]["link"] == (
        f"/api/v1/supervision/warnings?department={world['market'].pk}"
    )
    orders = {row["status"]: row["count"] for row in body["orders"]["by_status"]}
    assert orders == {"open": 1, "responded": 1, "escalated": 0, "closed": 0}
    assert {row["card"]: row["count"] for row in body["orders"]["by_card"]} == {
        "yellow": 1,
        "red": 1,
    }
    assert [row["count"] for row in body["ratings"]["levels"]] == [1, 1, 1, 1, 1]
    assert body["ratings"]["satisfaction_rate"] == 0.4
    rect = {row["status"]: row["count"] for row in body["rectifications"]["by_status"]}
    assert rect["ledger"] == 1
    assert rect["fixed"] == 1
    assert rect["appeal_upheld"] == 0  # r6 is excluded
    assert body["rectifications"]["rate"] == 0.5
    assert body["cases"]["closed_late"] == 2
    assert body["cases"]["links"]["closed"] == "/workbench/cases/?status=closed"
    departments = {row["department"]: row for row in body["departments"]}
    assert departments[world["market"].name]["on_time_rate"] == 0.5
    assert departments[world["planning"].name]["warnings"] == 1
    assert body["indicators"]["total_score"] == pytest.approx(55.66, abs=0.006)


# --- weights ------------------------------------------------------------------------------------


def test_node_admin_changes_weights_and_the_scores_follow(world: dict[str, Any]) -> None:
    client = client_for(world["node_admin"])
    response = client.put(
        f"{BASE}/weights",
        {"weights": {"effectiveness": 100, "service_modes": 0, "item_coverage": 0,
                     "guide_accuracy": 0, "online_maturity": 0, "on_time_rate": 1,
                     "satisfaction_rate": 0, "rectification_rate": 0, "warning_rate": 0}},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    weights = {row["code"]: row for row in response.json()}
    assert weights["effectiveness"]["weight"] == 100.0
    assert weights["effectiveness"]["default"] == 25.0
    # only 按时办结率 counts now: the total is its score, 60
    body = client.get(f"{BASE}/", MARCH).json()
    assert body["total_score"] == 60.0
    record = AuditRecord.objects.filter(action="indicators:weights:update").get()
    assert record.after["effectiveness"] == "100.00"


@pytest.mark.parametrize("role", ["supervisor", "market_clerk", "person"])
def test_others_cannot_change_weights(world: dict[str, Any], role: str) -> None:
    response = client_for(world[role]).put(
        f"{BASE}/weights", {"weights": {"effectiveness": 50}}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not IndicatorWeight.objects.exists()
    assert not AuditRecord.objects.filter(action="indicators:weights:update").exists()


@pytest.mark.parametrize(
    ("weights", "code"),
    [
        ({"nonsense": 5}, "indicators.weight_unknown"),
        ({"effectiveness": -1}, "indicators.weight_invalid"),
        ({"effectiveness": 1001}, "indicators.weight_invalid"),
        ({"service_modes": 0, "item_coverage": 0, "guide_accuracy": 0, "online_maturity": 0,
          "effectiveness": 0}, "indicators.weights_zero"),
        ({"on_time_rate": 0, "satisfaction_rate": 0, "rectification_rate": 0, "warning_rate": 0},
         "indicators.weights_zero"),
        ({}, "indicators.weights_empty"),
    ],
)  # fmt: skip
def test_bad_weights_change_nothing(
    world: dict[str, Any], weights: dict[str, Any], code: str
) -> None:
    response = client_for(world["node_admin"]).put(
        f"{BASE}/weights", {"weights": weights}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not IndicatorWeight.objects.exists()


def test_weights_are_readable_by_viewers(world: dict[str, Any]) -> None:
    rows = client_for(world["market_clerk"]).get(f"{BASE}/weights").json()
    assert len(rows) == 5 + 19
    assert sum(row["weight"] for row in rows if row["level"] == 1) == 100.0
    for first in {row["code"] for row in rows if row["level"] == 1}:
        assert sum(row["weight"] for row in rows if row["parent"] == first) == 100.0
    assert client_for(world["person"]).get(f"{BASE}/weights").status_code == 403


# --- export -------------------------------------------------------------------------------------


def test_xlsx_export(world: dict[str, Any]) -> None:
    response = client_for(world["supervisor"]).get(
        f"{BASE}/export", {"format": "xlsx", "period": "2026-03"}
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["指标", "月度趋势", "说明"]
    rows = list(book["指标"].iter_rows(values_only=True))
    assert rows[0][:4] == ("层级", "指标代码", "指标名称", "上级指标")
    by_code = {row[1]: row for row in rows[1:]}
    assert by_code["on_time_rate"][6:10] == (3, 5, 0.6, 60)
    assert by_code["warning_rate"][8] == pytest.approx(428.5714)
    assert by_code["total"][9] == pytest.approx(55.66, abs=0.006)
    assert len(rows) == 1 + 5 + 19 + 1
    months = list(book["月度趋势"].iter_rows(values_only=True))
    assert months[1][0] == "2026-03"
    assert months[1][5] == 0.6
    about = dict(book["说明"].iter_rows(values_only=True))
    assert about["统计期"] == "2026-03-01 至 2026-03-31"
    assert about["统计范围"] == "全平台"


def test_csv_export(world: dict[str, Any]) -> None:
    response = client_for(world["market_clerk"]).get(
        f"{BASE}/export", {"format": "csv", "period": "2026-03"}
    )
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    by_code = {row[1]: row for row in rows[1:]}
    assert by_code["on_time_rate"][6:10] == ["2", "4", "0.5", "50.0"]
    assert by_code["online_maturity"][0] == "一级"


def test_export_rejects_unknown_format(world: dict[str, Any]) -> None:
    response = client_for(world["supervisor"]).get(f"{BASE}/export", {"format": "pdf"})
    assert response.status_code == 400
    assert response.json()["code"] == "indicators.export_format"


# --- snapshots ----------------------------------------------------------------------------------


def test_supervisor_stores_a_snapshot(world: dict[str, Any]) -> None:
    client = client_for(world["supervisor"])
    response = client.post(
        f"{BASE}/snapshots", {"period": "2026-03"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    snapshot = IndicatorSnapshot.objects.get()
    assert float(snapshot.total_score) == pytest.approx(55.66, abs=0.006)
    assert snapshot.result["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert AuditRecord.objects.filter(action="indicators:snapshot:create").count() == 1
    listed = client.get(f"{BASE}/snapshots").json()
    assert [row["id"] for row in listed["items"]] == [snapshot.pk]
    dashboard = client.get(f"{BASE}/dashboard", MARCH).json()
    assert [row["id"] for row in dashboard["snapshots"]] == [snapshot.pk]


def test_department_staff_cannot_store_snapshots(world: dict[str, Any]) -> None:
    response = client_for(world["market_clerk"]).post(
        f"{BASE}/snapshots", {"period": "2026-03"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not IndicatorSnapshot.objects.exists()


def test_monthly_snapshot_task(world: dict[str, Any]) -> None:
    import datetime as dt

    from zwfw.indicators.services import snapshot_last_month

    assert snapshot_last_month(dt.date(2026, 4, 15)) == 3  # node, A, B
    assert snapshot_last_month(dt.date(2026, 4, 15)) == 0  # idempotent
    node = IndicatorSnapshot.objects.get(department__isnull=True)
    assert (node.period_from.isoformat(), node.period_to.isoformat()) == MARCH_TUPLE


MARCH_TUPLE = ("2026-03-01", "2026-03-31")


# --- the page -----------------------------------------------------------------------------------


def embedded(html: str) -> Any:
    match = re.search(
        r'<script id="dashboard-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match is not None
    return json.loads(unescape(match.group(1)))


@pytest.mark.parametrize(("role", "params"), [("supervisor", {}), ("market_clerk", {})])
def test_page_embeds_exactly_the_api_output(
    world: dict[str, Any], role: str, params: dict[str, str]
) -> None:
    client = client_for(world[role])
    page = client.get("/workbench/dashboards/", MARCH)
    assert page.status_code == 200
    html = page.content.decode()
    api = client.get(f"{BASE}/dashboard", MARCH).json()
    assert embedded(html) == api
    assert "vendor/echarts/echarts.min.js" in html
    assert "indicators/dashboard.css" in html


def test_page_tables_show_the_numbers(world: dict[str, Any]) -> None:
    html = client_for(world["supervisor"]).get("/workbench/dashboards/", MARCH).content.decode()
    assert "总分 55.66" in html or "总分 55.65" in html
    assert (
        '<th scope="row">2026-03</th><td>7</td><td>6</td><td>60.0%</td><td>5</td><td>40.0%</td>'
        in html
    )
    assert "/api/v1/supervision/warnings?severity=red" in html
    assert "/workbench/cases/?status=closed" in html
    assert "差评整改状态（共 2 件，整改率 50.0%）" in html


def test_page_for_a_department_filter(world: dict[str, Any]) -> None:
    client = client_for(world["supervisor"])
    params = {**MARCH, "department": str(world["planning"].pk)}
    page = client.get("/workbench/dashboards/", params)
    api = client.get(f"{BASE}/dashboard", params).json()
    assert embedded(page.content.decode()) == api
    assert api["departments"] == []  # one department: no comparison table


def test_page_refuses_others(world: dict[str, Any]) -> None:
    assert client_for(world["person"]).get("/workbench/dashboards/").status_code == 403
    other = client_for(world["market_clerk"]).get(
        "/workbench/dashboards/", {"department": world["planning"].pk}
    )
    assert other.status_code == 403
    anonymous = client_for(None).get("/workbench/dashboards/")
    assert anonymous.status_code == 302
    bad = client_for(world["supervisor"]).get("/workbench/dashboards/", {"from": "2026-02-30"})
    assert bad.status_code == 400
    assert bad.status_code != 500


def test_staff_of_two_departments_see_both_together(world: dict[str, Any]) -> None:
    from zwfw.indicators.tests.conftest import staff
    from zwfw.organisations import services as organisations
    from zwfw.organisations.models import Role

    both = staff("both_departments", Role.REVIEWER, world["market"])
    organisations.grant_role(user=both, department=world["planning"], role=Role.CLERK)
    body = client_for(both).get(f"{BASE}/dashboard", MARCH).json()
    assert {d["id"] for d in body["scope"]["departments"]} == {
        world["market"].pk,
        world["planning"].pk,
    }
    on_time = second(body["indicators"], "on_time_rate")
    assert (on_time["numerator"], on_time["denominator"]) == (3, 5)  # A 2/4 + B 1/1
    assert [row["department"] for row in body["departments"]] == [
        world["market"].name,
        world["planning"].name,
    ]
    assert body["snapshots"] == []
