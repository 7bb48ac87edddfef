"""The 好差评 API over HTTP: every role, J4 through the endpoints, public statistics, tokens."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from zwfw.cases.models import Case
from zwfw.core.models import AuditRecord
from zwfw.identity.models import User
from zwfw.ratings import services
from zwfw.ratings.models import Rating, Rectification, RectificationStatus
from zwfw.ratings.tests.conftest import closed_case

pytestmark = pytest.mark.django_db

API = "/api/v1"
ERROR_KEYS = {"code", "message", "message_en", "details", "request_id"}
ANGRY = "三次电话都没人接，我的电话13912345678"


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, path: str, body: Any = None, **headers: str) -> Any:
    data = "" if body is None else json.dumps(body, ensure_ascii=False, default=str)
    return client.post(f"{API}{path}", data=data, content_type="application/json", headers=headers)


def get(client: Client, path: str) -> Any:
    return client.get(f"{API}{path}")


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    return body


def rate(people: dict[str, Any], target: Case, **body: Any) -> Any:
    payload = {"case": target.number, "level": 5, "text": ANGRY, **body}
    return post(login(people["person"]), "/ratings", payload)


def rect_state(rect_id: int) -> tuple[Any, ...]:
    rect = Rectification.objects.get(pk=rect_id)
    return (rect.status, rect.verification, rect.appeal_reason, rect.closed_at, rect.steps.count())


def test_j4_over_http(people: dict[str, Any], case: Case) -> None:
    response = rate(people, case, named=True, scores={"attitude": 1})
    assert response.status_code == 201, response.content
    rating = response.json()
    assert rating["level"] == 5
    assert rating["level_label"] == "非常不满意"
    assert rating["stars"] == 1
    assert rating["case_number"] == case.number
    assert rating["scores"]["attitude"] == 1
    assert rating["rectification_status"] == "verifying"
    rect_id = rating["rectification_id"]

    admin, supervisor = login(people["admin"]), login(people["supervisor"])
    listed = get(admin, "/rectifications?status=verifying").json()
    assert [r["id"] for r in listed["items"]] == [rect_id]
    detail = get(admin, f"/rectifications/{rect_id}").json()
    assert detail["rating"]["rater_name"] == "李*"
    assert detail["rating"]["text"] == "三次电话都没人接，我的电话139****5678"
    assert detail["contact_phone"] == "138****8000"
    assert detail["return_call_required"] is True
    assert detail["overdue"] is False
    contact = get(admin, f"/rectifications/{rect_id}/contact")
    assert contact.json() == {"rater_name": "李*", "contact_phone": "13800138000"}
    assert AuditRecord.objects.filter(
        action="ratings:rating:read", object_id=str(rating["id"]), after__purpose="return_call"
    ).exists()

    verified = post(
        admin,
        f"/rectifications/{rect_id}/verify",
        {
            "outcome": "ledger",
            "verification": "核实属实：咨询电话无人值守",
            "measures": "安排专人值守咨询电话，列入整改台账",
            "ledger_deadline": "2099-01-01",
        },
    )
    error_of(verified, 400)  # more than a year ahead
    verified = post(
        admin,
        f"/rectifications/{rect_id}/verify",
        {
            "outcome": "ledger",
            "verification": "核实属实：咨询电话无人值守",
            "measures": "安排专人值守咨询电话，列入整改台账",
            "ledger_deadline": detail["deadline"],
        },
    )
    assert verified.status_code == 200, verified.content
    assert verified.json()["status"] == "ledger"
    body = error_of(post(supervisor, f"/rectifications/{rect_id}/close", {"opinion": "办结"}), 409)
    assert body["code"] == "ratings.return_call_required"
    called = post(admin, f"/rectifications/{rect_id}/return-call", {"summary": "已回访，群众认可"})
    assert called.json()["return_call_by"] == "孙主任"
    closed = post(supervisor, f"/rectifications/{rect_id}/close", {"opinion": "整改到位"})
    assert closed.status_code == 200, closed.content
    final = closed.json()
    assert final["status"] == "closed"
    assert [s["action"] for s in final["steps"]] == [
        "open",
        "verify",
        "return_call",
        "close",
    ]
    stats = get(Client(), f"/ratings/stats?department={people['market'].pk}").json()
    assert stats["rectification_rate"] == 1.0


def test_rating_permissions(people: dict[str, Any], case: Case) -> None:
    anonymous = error_of(post(Client(), "/ratings", {"case": case.number, "level": 1}), 401)
    assert anonymous["code"] == "auth.required"
    for who in ("stranger", "clerk", "supervisor"):
        response = post(login(people[who]), "/ratings", {"case": case.number, "level": 1})
        assert response.status_code in {403, 404}, (who, response.content)
    assert not Rating.objects.exists()
    assert rate(people, case).status_code == 201
    second = error_of(rate(people, case, level=1), 409)
    assert second["code"] == "ratings.already_rated"
    assert Rating.objects.get().level == 5


def test_rating_input_errors(people: dict[str, Any], case: Case) -> None:
    for body, status, code in [
        ({"level": 9}, 400, "ratings.level"),
        ({"level": "很好"}, 422, None),
        ({"level": 5, "text": ""}, 400, "ratings.text_required"),
        ({"level": 1, "scores": {"attitude": 7}}, 400, "ratings.score"),
        ({"level": 1, "channel": "7"}, 400, "ratings.channel"),
        ({"level": 1, "case": "abc"}, 404, "cases.case_unknown"),
    ]:
        error = error_of(rate(people, case, **body), status)
        if code:
            assert error["code"] == code, body
    assert not Rating.objects.exists()


def test_idempotent_rating(people: dict[str, Any], case: Case) -> None:
    client = login(people["person"])
    body = {"case": case.number, "level": 2}
    first = post(client, "/ratings", body, **{"Idempotency-Key": "rating-key-0001"})
    again = post(client, "/ratings", body, **{"Idempotency-Key": "rating-key-0001"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Rating.objects.count() == 1


def test_rating_lists_by_role(people: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    for level in (1, 2, 4, 5, 3):
        services.rate_case(people["person"], closed_case(people), level=level, text="原因")
    _row, token = services.issue_visit_token(people["other_clerk"], department=people["planning"])
    services.rate_by_token(token, level=1)

    reviewer = login(people["reviewer"])  # market staff
    with django_assert_max_num_queries(8):
        page = get(reviewer, "/ratings?limit=2").json()
    assert [r["level"] for r in page["items"]] == [3, 5]
    page2 = get(reviewer, f"/ratings?limit=2&cursor={page['next_cursor']}").json()
    assert [r["level"] for r in page2["items"]] == [4, 2]
    bad = get(reviewer, "/ratings?bad_only=true").json()
    assert sorted(r["level"] for r in bad["items"]) == [4, 5]
    assert all(r["department"] == "广安市市场监督管理局" for r in bad["items"])
    planning = get(login(people["other_clerk"]), "/ratings").json()
    assert [r["visit_reference"][:1] for r in planning["items"]] == ["V"]
    every = get(login(people["supervisor"]), "/ratings?limit=50").json()
    assert len(every["items"]) == 6
    for who in ("person", "stranger"):
        assert error_of(get(login(people[who]), "/ratings"), 403)["code"] == "ratings.staff_only"
    error_of(get(Client(), "/ratings"), 401)
    error_of(get(reviewer, "/ratings?level=9"), 422)
    error_of(get(reviewer, "/ratings?from=2026-02-01&to=2026-01-01"), 400)
    error_of(get(reviewer, "/ratings?cursor=%%%"), 400)


def test_rectification_list_query_count(
    people: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    for _ in range(6):
        services.rate_case(people["person"], closed_case(people), level=5, text="差")
    supervisor = login(people["supervisor"])
    with django_assert_max_num_queries(6):
        page = get(supervisor, "/rectifications?limit=50").json()
    assert len(page["items"]) == 6
    assert get(supervisor, "/rectifications?overdue=true").json()["items"] == []
    assert len(get(supervisor, "/rectifications?overdue=false").json()["items"]) == 6
    error_of(get(supervisor, "/rectifications?status=whatever"), 400)


def test_rectification_actions_per_role(people: dict[str, Any], case: Case) -> None:
    rect_id = rate(people, case).json()["rectification_id"]
    before = rect_state(rect_id)
    verify = {"outcome": "fixed", "verification": "a", "measures": "b"}
    # Citizens see nothing; a clerk of another department cannot find it; a supervisor sees it
    # but does not answer for the department.
    for who, status in [
        ("person", 403),
        ("stranger", 403),
        ("other_clerk", 404),
        ("supervisor", 403),
        ("reviewer", 403),
    ]:
        client = login(people[who])
        error_of(post(client, f"/rectifications/{rect_id}/verify", verify), status)
        error_of(post(client, f"/rectifications/{rect_id}/appeal", {"reason": "r"}), status)
        error_of(post(client, f"/rectifications/{rect_id}/return-call", {"summary": "s"}), status)
    error_of(get(login(people["other_clerk"]), f"/rectifications/{rect_id}"), 404)
    error_of(get(login(people["reviewer"]), f"/rectifications/{rect_id}/contact"), 403)
    error_of(get(login(people["admin"]), f"/rectifications/{rect_id}/contact"), 404)  # not named
    error_of(get(login(people["admin"]), "/rectifications/99999999999999999999"), 404)
    assert rect_state(rect_id) == before

    appealed = post(login(people["admin"]), f"/rectifications/{rect_id}/appeal", {"reason": "恶意"})
    assert appealed.status_code == 200
    before = rect_state(rect_id)
    for who in ("person", "admin", "decider", "other_clerk"):
        client = login(people[who])
        response = post(
            client, f"/rectifications/{rect_id}/appeal-review", {"uphold": True, "opinion": "x"}
        )
        assert response.status_code in {403, 404}
        assert post(client, f"/rectifications/{rect_id}/close", {"opinion": "x"}).status_code in {
            403,
            404,
        }
    assert rect_state(rect_id) == before
    reviewed = post(
        login(people["supervisor"]),
        f"/rectifications/{rect_id}/appeal-review",
        {"uphold": True, "opinion": "申诉成立"},
    )
    assert reviewed.json()["status"] == RectificationStatus.APPEAL_UPHELD
    assert reviewed.json()["rating"]["excluded"] is True


def test_public_statistics(people: dict[str, Any]) -> None:
    for level in (1, 2, 2, 5):
        services.rate_case(people["person"], closed_case(people), level=level, text="原因")
    anonymous = Client()
    response = get(anonymous, f"/ratings/stats?department={people['market'].pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["department"] == "广安市市场监督管理局"
    assert body["total"] == 4
    assert body["by_level"] == {"1": 1, "2": 2, "3": 0, "4": 0, "5": 1}
    assert body["satisfaction_rate"] == 0.75  # (1 + 2) / 4
    assert body["good_rate"] == 0.75
    assert body["bad_rate"] == 0.25
    assert body["rectification_rate"] == 0.0  # 0 closed of 1 bad
    assert "from" in body
    text = json.dumps(body, ensure_ascii=False)
    assert "李" not in text
    assert "原因" not in text
    item = Rating.objects.first().item.implementation_code  # type: ignore[union-attr]
    today = timezone.localdate()
    span = f"from={today - dt.timedelta(days=30)}&to={today + dt.timedelta(days=1)}"
    assert get(anonymous, f"/ratings/stats?item={item}&{span}").json()["total"] == 4
    error_of(get(anonymous, "/ratings/stats?from=2000-01-01&to=2020-01-01"), 400)  # > 10 years
    empty = get(anonymous, "/ratings/stats?from=2020-01-01&to=2020-01-31").json()
    assert empty["total"] == 0
    assert empty["satisfaction_rate"] is None
    assert error_of(get(anonymous, "/ratings/stats?department=999999"), 404)["code"] == (
        "ratings.department_unknown"
    )
    error_of(get(anonymous, "/ratings/stats?item=nope"), 404)
    error_of(get(anonymous, "/ratings/stats?from=2026-03-01&to=2026-02-01"), 400)
    error_of(get(anonymous, "/ratings/stats?from=yesterday"), 422)


def test_tokens_over_http(people: dict[str, Any], case: Case) -> None:
    clerk = login(people["clerk"])
    created = post(
        clerk,
        "/ratings/visit-tokens",
        {"department_id": people["market"].pk, "visit_reference": "A001"},
    )
    assert created.status_code == 201, created.content
    issued = created.json()
    assert issued["qr_svg"].startswith("<svg")
    assert issued["url"].endswith(f"/ratings/r/{issued['token']}")
    token = issued["token"]
    anonymous = Client()
    form = get(anonymous, f"/ratings/by-token/{token}").json()
    assert form["state"] == "open"
    assert form["kind"] == "visit"
    assert form["department"] == "广安市市场监督管理局"
    assert form["levels"][0]["label"] == "非常满意"
    rated = post(anonymous, f"/ratings/by-token/{token}", {"level": 1, "scores": {"attitude": 5}})
    assert rated.status_code == 201, rated.content
    assert rated.json()["channel"] == "3"
    assert get(anonymous, f"/ratings/by-token/{token}").json()["state"] == "used"
    again = error_of(post(anonymous, f"/ratings/by-token/{token}", {"level": 5, "text": "x"}), 409)
    assert again["code"] == "ratings.token_used"
    tampered = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    assert error_of(get(anonymous, f"/ratings/by-token/{tampered}"), 400)["code"] == (
        "ratings.token_invalid"
    )
    error_of(post(anonymous, f"/ratings/by-token/{tampered}", {"level": 1}), 400)
    assert Rating.objects.count() == 1
    # Only a clerk of the department prints visit codes.
    for who, status in (("other_clerk", 403), ("person", 403)):
        error_of(
            post(
                login(people[who]), "/ratings/visit-tokens", {"department_id": people["market"].pk}
            ),
            status,
        )
    error_of(post(clerk, "/ratings/visit-tokens", {"department_id": 999999}), 404)
    error_of(post(Client(), "/ratings/visit-tokens", {"department_id": people["market"].pk}), 401)


def test_admin_pages_are_read_only_and_masked(people: dict[str, Any], case: Case) -> None:
    rect_id = rate(people, case).json()["rectification_id"]
    root = User.objects.create_superuser("root", password="x" * 12, kind="staff")
    client = login(root)
    rating_id = Rectification.objects.get(pk=rect_id).rating_id
    page = client.get(f"/admin/ratings/rating/{rating_id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "139****5678" in html
    assert "13912345678" not in html
    assert client.get("/admin/ratings/rectification/").status_code == 200
    assert client.get(f"/admin/ratings/rectification/{rect_id}/change/").status_code == 200
    assert client.get("/admin/ratings/rating/add/").status_code == 403


def test_applicant_sees_whether_and_how_a_case_was_rated(
    people: dict[str, Any], case: Case
) -> None:
    person = login(people["person"])
    state = get(person, f"/ratings/for-case/{case.number}").json()
    assert state == {"case_number": case.number, "rateable": True, "reason": "", "rating": None}
    open_case = closed_case(people)
    Case.objects.filter(pk=open_case.pk).update(status="in_progress", due_date=None)
    waiting = get(person, f"/ratings/for-case/{open_case.pk}").json()
    assert waiting["rateable"] is False
    assert "办结后才能评价" in waiting["reason"]
    assert rate(people, case, level=2, text="").status_code == 201
    rated = get(person, f"/ratings/for-case/{case.number}").json()
    assert rated["rateable"] is False
    assert rated["rating"]["level"] == 2
    mine = get(person, "/ratings/mine").json()
    assert [r["case_number"] for r in mine["items"]] == [case.number]
    assert get(login(people["stranger"]), "/ratings/mine").json()["items"] == []
    error_of(get(login(people["stranger"]), f"/ratings/for-case/{case.number}"), 404)
    error_of(get(Client(), "/ratings/mine"), 401)
