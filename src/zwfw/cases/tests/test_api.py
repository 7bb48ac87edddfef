"""The case API end to end with ``django.test.Client``: applicants, staff, supervisors, machine
clients, anonymous lookups; idempotency and concurrency; error shape under hostile input."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zwfw.cases import services
from zwfw.cases.models import Case, CaseEvent, CaseStatus, CaseTask, Notice, TaskKind
from zwfw.cases.tests.conftest import ITEM_IMMEDIATE, ITEM_PARALLEL, ITEM_PROMISED, PDF
from zwfw.core.models import AuditRecord, IdempotencyRecord
from zwfw.identity.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.urls("zwfw.cases.tests.urls_dataset")]

API = "/api/v1"
ERROR_KEYS = {"code", "message", "message_en", "details", "request_id"}


def login(user: User, **session: Any) -> Client:
    client = Client()
    client.force_login(user)
    if session:
        stored = client.session
        stored.update(session)
        stored.save()
    return client


def post(client: Client, path: str, body: Any = None, **headers: str) -> Any:
    data = "" if body is None else json.dumps(body, ensure_ascii=False)
    return client.post(f"{API}{path}", data=data, content_type="application/json", headers=headers)


def get(client: Client, path: str, **headers: str) -> Any:
    return client.get(f"{API}{path}", headers=headers)


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    return body


def draft(client: Client, item: str = ITEM_PROMISED, **form: Any) -> dict[str, Any]:
    response = post(client, "/cases", {"item_code": item, "form": form})
    assert response.status_code == 201, response.content[:500]
    return response.json()


def upload(
    client: Client, case_id: int, index: int | None, data: bytes, name: str = "a.pdf"
) -> Any:
    fields: dict[str, Any] = {"file": SimpleUploadedFile(name, data, "application/pdf")}
    if index is not None:
        fields["checklist_index"] = str(index)
    return client.post(f"{API}/cases/{case_id}/materials", fields)


def upload_all(client: Client, body: dict[str, Any]) -> None:
    for index in range(len(body["missing_materials"])):
        response = upload(client, body["id"], index, PDF + f"{body['id']}-{index}".encode())
        assert response.status_code == 201, response.content[:500]


def submitted_case(client: Client, item: str = ITEM_PROMISED) -> dict[str, Any]:
    body = draft(client, item)
    upload_all(client, body)
    response = post(client, f"/cases/{body['id']}/submit")
    assert response.status_code == 200, response.content[:500]
    return response.json()


def open_task(case_id: int, kind: str | None = None, department: Any = None) -> CaseTask:
    tasks = CaseTask.objects.filter(case_id=case_id, status=CaseTask.Status.OPEN)
    if kind:
        tasks = tasks.filter(kind=kind)
    if department is not None:
        tasks = tasks.filter(department=department)
    found = tasks.order_by("id").first()
    assert found is not None
    return found


def snapshot(case_id: int) -> tuple[Any, ...]:
    """What a refused call must leave unchanged."""
    case = Case.objects.get(pk=case_id)
    tasks = tuple(
        CaseTask.objects.filter(case_id=case_id)
        .order_by("id")
        .values_list("status", "assignee_id", "department_id")
    )
    return case.status, case.lock_version, tasks, CaseEvent.objects.filter(case_id=case_id).count()


# --- applying ------------------------------------------------------------------------------------


def test_apply_upload_submit_with_idempotency_key(world: dict[str, Any]) -> None:
    person = login(world["person"])
    body = draft(person, postcode="638000", address="四川省广安市广安区建设路1号")
    assert body["status"] == "draft"
    assert body["number"] is None
    assert body["form"]["postcode"] == "638000"
    assert [m["checklist_index"] for m in body["missing_materials"]] == [0, 1, 2]

    early = post(person, f"/cases/{body['id']}/submit")
    assert error_of(early, 400)["code"] == "cases.materials_missing"

    uploaded = upload(person, body["id"], 0, PDF + b"form")
    assert uploaded.status_code == 201
    material = uploaded.json()
    assert material["media_type"] == "application/pdf"
    assert material["size"] == len(PDF) + 4
    assert material["name"] == "食品经营许可申请书"
    assert material["source"] == "upload"
    not_pdf = upload(person, body["id"], 1, b"MZ\x90\x00 not a pdf", "evil.pdf")
    assert not_pdf.status_code == 400
    assert not_pdf.json()["code"].startswith("cases.")
    upload_all(person, body)
    detail = get(person, f"/cases/{body['id']}").json()
    assert detail["missing_materials"] == []
    assert len(detail["materials"]) == 3

    key = {"Idempotency-Key": "submit-0001-abcdef"}
    first = post(person, f"/cases/{body['id']}/submit", **key)
    second = post(person, f"/cases/{body['id']}/submit", **key)
    assert first.status_code == second.status_code == 200
    # The replay is the same answer, except that the query password is shown only once.
    assert first.json()["case"] == second.json()["case"]
    assert second.json()["query_password"] == "（已显示，请查看站内消息或短信）"
    answer = first.json()
    number = answer["case"]["number"]
    assert len(number) == 20
    assert number.startswith("511600")
    assert answer["case"]["status"] == "submitted"
    assert len(answer["query_password"]) == 6
    assert Case.objects.exclude(number=None).count() == 1
    assert CaseEvent.objects.filter(case_id=body["id"], kind="submit").count() == 1
    # A different key (or none) is a second submission: refused, nothing renumbered.
    again = post(person, f"/cases/{body['id']}/submit", **{"Idempotency-Key": "submit-0002-abc"})
    assert error_of(again, 409)["code"] == "cases.wrong_status"
    assert Case.objects.get(pk=body["id"]).number == number
    # The same key for another case's submission: refused, that case untouched.
    other = draft(person)
    upload_all(person, other)
    reused = post(person, f"/cases/{other['id']}/submit", **key)
    assert error_of(reused, 409)["code"] == "idempotency.key_reused"
    assert Case.objects.get(pk=other["id"]).status == CaseStatus.DRAFT

    timeline = get(person, f"/cases/{number}/timeline").json()
    assert [(e["kind"], e["step_name"], e["action"]) for e in timeline] == [("submit", "申请", "1")]
    assert get(person, f"/cases/{number}/notices").json() == []
    mine = get(person, "/cases?status=submitted").json()
    assert [c["number"] for c in mine["items"]] == [number]


def test_query_password_is_not_kept_in_clear(world: dict[str, Any]) -> None:
    person = login(world["person"])
    body = draft(person)
    upload_all(person, body)
    answer = post(person, f"/cases/{body['id']}/submit", **{"Idempotency-Key": "k-000000001"})
    password = answer.json()["query_password"]
    stored = IdempotencyRecord.objects.get(key="k-000000001").response
    assert password not in json.dumps(stored)


def test_withdraw_and_delivery(world: dict[str, Any]) -> None:
    person = login(world["person"])
    answer = submitted_case(person)
    case_id = answer["case"]["id"]
    chosen = post(person, f"/cases/{case_id}/delivery", {"method": "post", "address": "广安区1号"})
    assert chosen.status_code == 200
    assert chosen.json()["delivery_method"] == "post"
    bad = post(person, f"/cases/{case_id}/delivery", {"method": "drone"})
    assert error_of(bad, 400)["code"] == "cases.delivery_method"
    withdrawn = post(person, f"/cases/{case_id}/withdraw", {"reason": "不再需要"})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert not CaseTask.objects.filter(case_id=case_id, status="open").exists()


# --- staff ---------------------------------------------------------------------------------------


def test_staff_inbox_claim_act_transfer_decide(world: dict[str, Any]) -> None:
    person = login(world["person"])
    clerk = login(world["clerk"])
    reviewer = login(world["reviewer"])
    planning = login(world["planning_reviewer"])
    decider = login(world["decider"])
    answer = submitted_case(person)
    case_id, number = answer["case"]["id"], answer["case"]["number"]

    counts = get(clerk, "/tasks/counts").json()
    assert counts == {"mine": 0, "queue": 1, "by_kind": {"accept": 1}, "overdue": 0}
    inbox = get(clerk, "/tasks").json()
    assert [(t["case_number"], t["kind"], t["allowed_actions"]) for t in inbox["items"]] == [
        (number, "accept", ["accept", "refuse", "correction"])
    ]
    accept_task = inbox["items"][0]["id"]
    assert get(reviewer, "/tasks").json()["items"] == []

    claimed = post(clerk, f"/tasks/{accept_task}/claim")
    assert claimed.status_code == 200
    assert claimed.json()["assignee_id"] == world["clerk"].pk
    assert get(clerk, "/tasks/counts").json()["mine"] == 1
    assert get(clerk, "/tasks?scope=mine").json()["items"][0]["id"] == accept_task
    accepted = post(clerk, f"/tasks/{accept_task}/act", {"action": "accept", "opinion": "齐全"})
    assert accepted.status_code == 200, accepted.content[:300]
    assert accepted.json()["status"] == "in_progress"

    review = get(reviewer, "/tasks").json()["items"]
    assert [t["kind"] for t in review] == ["review"]
    review_id = review[0]["id"]
    wrong = post(reviewer, f"/tasks/{review_id}/act", {"action": "approve"})
    assert error_of(wrong, 400)["code"] == "cases.action_unknown"
    moved = post(
        reviewer,
        f"/tasks/{review_id}/transfer",
        {"department_id": world["planning"].pk, "reason": "属规划部门职责"},
    )
    assert moved.status_code == 200
    assert moved.json()["department_id"] == world["planning"].pk
    assert get(reviewer, "/tasks").json()["items"] == []
    assert [t["id"] for t in get(planning, "/tasks").json()["items"]] == [review_id]
    passed = post(
        planning,
        f"/tasks/{review_id}/act",
        {"action": "pass", "opinion": "符合", "checklist": [{"index": 0, "ok": True}]},
    )
    assert passed.status_code == 200, passed.content[:300]

    decide_id = get(decider, "/tasks").json()["items"][0]["id"]
    reject = post(decider, f"/tasks/{decide_id}/act", {"action": "reject"})
    assert error_of(reject, 400)["code"] == "cases.reason_required"
    done = post(decider, f"/tasks/{decide_id}/act", {"action": "approve", "opinion": "准予"})
    assert done.status_code == 200
    assert done.json()["status"] == "closed"

    kinds = [e["kind"] for e in get(person, f"/cases/{case_id}/timeline").json()]
    assert kinds == ["submit", "accept", "transfer", "review", "decide", "close"]
    notices = get(person, f"/cases/{number}/notices").json()
    assert [n["kind"] for n in notices] == [Notice.Kind.ACCEPTANCE, Notice.Kind.APPROVAL]
    assert notices[0]["number"] == f"SL-{number}-01"
    staff_view = get(clerk, f"/cases/{case_id}").json()
    assert staff_view["review_points"] == [
        "申请人主体资格",
        "经营场所符合要求",
        "从业人员健康证明齐全",
    ]
    assert get(person, f"/cases/{case_id}").json()["review_points"] is None


def test_correction_special_procedure_and_suspension_over_the_api(world: dict[str, Any]) -> None:
    person = login(world["person"])
    clerk = login(world["clerk"])
    reviewer = login(world["reviewer"])
    case_id = submitted_case(person)["case"]["id"]
    correction = post(
        clerk,
        f"/cases/{case_id}/correction",
        {"items": [{"checklist_index": 2, "problem": "平面图不清晰"}], "note": "请补正"},
    )
    assert correction.status_code == 201
    assert correction.json()["status"] == "correction"
    early = post(person, f"/cases/{case_id}/resubmit")
    assert error_of(early, 400)["code"] == "cases.correction_incomplete"
    assert upload(person, case_id, 2, PDF + b"clear").status_code == 201
    assert post(person, f"/cases/{case_id}/resubmit").json()["status"] == "submitted"
    assert post(clerk, f"/cases/{case_id}/accept", {"opinion": "好"}).json()["status"] == (
        "in_progress"
    )
    end = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    special = post(
        reviewer,
        f"/cases/{case_id}/special",
        {"kind": "24", "reason": "实地核查", "expected_end": end},
    )
    assert special.status_code == 200
    assert special.json()["status"] == "special"
    assert special.json()["clock"]["paused"] is True
    ended = post(reviewer, f"/cases/{case_id}/special/end", {"result": "核查通过"})
    assert ended.json()["status"] == "in_progress"
    assert post(reviewer, f"/cases/{case_id}/suspend", {"reason": "等待裁定"}).json()["status"] == (
        "suspended"
    )
    assert post(reviewer, f"/cases/{case_id}/resume", {}).json()["status"] == "in_progress"


def test_applicant_cannot_use_staff_endpoints(world: dict[str, Any]) -> None:
    person = login(world["person"])
    answer = submitted_case(person)
    case_id = answer["case"]["id"]
    task_id = open_task(case_id).pk
    before = snapshot(case_id)
    audits = AuditRecord.objects.count()
    for path, body in [
        (f"/cases/{case_id}/accept", {}),
        (f"/cases/{case_id}/refuse", {"reason": "x"}),
        (f"/cases/{case_id}/correction", {"items": [{"checklist_index": 0, "problem": "x"}]}),
        (f"/cases/{case_id}/special", {"kind": "24", "reason": "x", "expected_end": "2099-01-01"}),
        (f"/cases/{case_id}/suspend", {"reason": "x"}),
        (f"/tasks/{task_id}/claim", None),
        (f"/tasks/{task_id}/act", {"action": "accept"}),
        (f"/tasks/{task_id}/transfer", {"department_id": world["planning"].pk, "reason": "x"}),
    ]:
        response = post(person, path, body)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert error_of(response, response.status_code)["code"] in (
            "cases.case_unknown",
            "cases.task_unknown",
        )
    assert get(person, "/tasks").json()["items"] == []
    assert get(person, "/workbench/cases").json()["items"] == []
    assert get(person, f"/cases/{case_id}/dataset").status_code == 404
    assert snapshot(case_id) == before
    assert AuditRecord.objects.count() == audits


def test_department_boundaries_and_the_supervisor(world: dict[str, Any]) -> None:
    person = login(world["person"])
    case_id = submitted_case(person)["case"]["id"]
    planning = login(world["planning_reviewer"])
    before = snapshot(case_id)
    for response in (
        get(planning, f"/cases/{case_id}"),
        get(planning, f"/cases/{case_id}/timeline"),
        get(planning, f"/cases/{case_id}/dataset"),
        post(planning, f"/cases/{case_id}/accept", {}),
        post(planning, f"/tasks/{open_task(case_id).pk}/claim"),
    ):
        assert response.status_code == 404, response.content[:200]
    assert get(planning, "/workbench/cases").json()["items"] == []
    assert snapshot(case_id) == before

    supervisor = login(world["supervisor"])
    seen = get(supervisor, f"/cases/{case_id}")
    assert seen.status_code == 200
    assert seen.json()["applicant_name"] == "李娜"
    assert [c["id"] for c in get(supervisor, "/workbench/cases").json()["items"]] == [case_id]
    read = AuditRecord.objects.filter(action="cases:case:read", object_id=str(case_id)).latest("id")
    assert read.actor == f"user:{world['supervisor'].pk}"
    # Seeing is not acting: the supervisor holds no clerk role.
    assert post(supervisor, f"/cases/{case_id}/accept", {}).status_code == 403
    assert snapshot(case_id) == before


def test_parallel_review_makes_the_case_visible_to_co_departments(world: dict[str, Any]) -> None:
    person = login(world["person"])
    case_id = submitted_case(person, ITEM_PARALLEL)["case"]["id"]
    planning = login(world["planning_reviewer"])
    assert get(planning, f"/cases/{case_id}").status_code == 404
    accepted = post(login(world["clerk"]), f"/cases/{case_id}/accept", {})
    assert accepted.status_code == 200, accepted.content[:300]
    assert get(planning, f"/cases/{case_id}").status_code == 200
    assert len(get(planning, "/tasks").json()["items"]) == 1


def _inbox_queries(client: Client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as listing:
        assert get(client, "/tasks?limit=50").status_code == 200
    with CaptureQueriesContext(connection) as counting:
        assert get(client, "/tasks/counts").status_code == 200
    return len(listing), len(counting)


def test_inbox_query_count_does_not_grow_with_tasks(world: dict[str, Any]) -> None:
    clerk = login(world["clerk"])

    def add_cases(count: int) -> None:
        for _ in range(count):
            case = services.create_draft(world["person"], ITEM_IMMEDIATE)
            services.submit(world["person"], case)

    add_cases(5)
    get(clerk, "/tasks")  # warm-up: session, caches
    five = _inbox_queries(clerk)
    assert len(get(clerk, "/tasks?limit=50").json()["items"]) == 5
    add_cases(15)
    twenty = _inbox_queries(clerk)
    assert len(get(clerk, "/tasks?limit=50").json()["items"]) == 20
    assert twenty == five
    assert five[0] <= 8, five
    counts = get(clerk, "/tasks/counts").json()
    assert counts["queue"] == 20
    assert counts["by_kind"] == {"handle": 20}


# --- agents --------------------------------------------------------------------------------------


def test_agent_acting_for_a_company(world: dict[str, Any]) -> None:
    company = world["company"]
    agent = login(world["agent"])
    switched = post(agent, "/identity/acting", {"uscc": company.uscc})
    assert switched.status_code == 200, switched.content[:300]
    assert switched.json()["acting_for"]["uscc"] == company.uscc
    body = draft(agent)
    assert body["applicant_kind"] == "company"
    assert body["company_uscc"] == company.uscc
    assert body["applicant_name"] == "示例餐饮管理有限公司"
    upload_all(agent, body)
    answer = post(agent, f"/cases/{body['id']}/submit").json()
    assert answer["case"]["status"] == "submitted"
    case = Case.objects.get(pk=body["id"])
    assert case.agent == world["agent"]
    assert case.applicant_user == world["rep"]
    assert [c["id"] for c in get(agent, "/cases").json()["items"]] == [body["id"]]
    # Outside the authorisation's items: refused.
    other = post(agent, "/cases", {"item_code": ITEM_PARALLEL})
    assert error_of(other, 403)["code"] == "cases.agent_scope"

    # Acting for oneself again: the company's case is not the agent's own.
    assert post(agent, "/identity/acting", {"uscc": None}).json()["acting_for"] is None
    assert error_of(get(agent, f"/cases/{body['id']}"), 404)["code"] == "cases.case_unknown"
    assert get(agent, "/cases").json()["items"] == []
    # The legal representative, acting for the company, sees it too.
    rep = login(world["rep"])
    post(rep, "/identity/acting", {"uscc": company.uscc})
    assert get(rep, f"/cases/{body['id']}").status_code == 200


def test_forged_acting_session_is_not_honoured(world: dict[str, Any]) -> None:
    company = world["company"]
    stranger = login(
        world["stranger"],
        zwfw_acting_for={"uscc": company.uscc, "name": company.name, "authorisation_id": None},
    )
    response = post(stranger, "/cases", {"item_code": ITEM_PROMISED})
    # The account middleware ends an acting context that does not hold: the draft is the
    # stranger's own, never the company's.
    assert response.status_code == 201, response.content[:300]
    assert response.json()["applicant_kind"] == "person"
    assert response.json()["company_uscc"] is None
    assert not Case.objects.filter(company=company).exists()
    assert get(stranger, "/identity/acting").json()["acting_for"] is None


# --- anonymous progress lookup -------------------------------------------------------------------


def test_progress_lookup_and_lockout(world: dict[str, Any]) -> None:
    person = login(world["person"])
    answer = submitted_case(person)
    number, password = answer["case"]["number"], answer["query_password"]
    anonymous = Client()
    found = post(anonymous, "/cases/progress", {"number": number, "password": password})
    assert found.status_code == 200, found.content[:300]
    body = found.json()
    assert body["number"] == number
    assert body["status"] == "submitted"
    assert body["applicant"] == "李*"
    assert [s["step_name"] for s in body["steps"]] == ["申请"]
    assert "511602199201200023" not in found.content.decode()

    wrong = "000000" if password != "000000" else "111111"
    for _ in range(9):
        failed = post(anonymous, "/cases/progress", {"number": number, "password": wrong})
        assert error_of(failed, 404)["code"] == "cases.query_failed"
    unknown = post(anonymous, "/cases/progress", {"number": "1" * 20, "password": password})
    assert error_of(unknown, 404)["code"] == "cases.query_failed"  # the 10th failure
    locked = post(anonymous, "/cases/progress", {"number": number, "password": password})
    body = error_of(locked, 429)
    assert body["code"] == "cases.progress_locked"
    assert body["details"]["retry_after"] > 0
    other_address = Client(REMOTE_ADDR="10.1.2.3")
    elsewhere = post(other_address, "/cases/progress", {"number": number, "password": password})
    assert elsewhere.status_code == 200


# --- machine clients and the dataset -------------------------------------------------------------


def machine_token(scope: str, token: str) -> str:
    from oauth2_provider.models import get_access_token_model, get_application_model

    application = get_application_model().objects.create(
        name="省级交换节点",
        client_id=f"exchange-{token}",
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )
    get_access_token_model().objects.create(
        application=application,
        token=token,
        expires=timezone.now() + dt.timedelta(hours=1),
        scope=scope,
    )
    return token


def test_dataset_endpoint_for_staff_and_machines(world: dict[str, Any]) -> None:
    from zwfw.cases.api_dataset import SCOPE
    from zwfw.sso.scopes import SCOPES

    assert SCOPES[SCOPE].machine is True
    person = login(world["person"])
    answer = submitted_case(person)
    case_id, number = answer["case"]["id"], answer["case"]["number"]

    clerk = login(world["clerk"])
    staff = get(clerk, f"/cases/{number}/dataset")
    assert staff.status_code == 200, staff.content[:300]
    data = staff.json()
    assert set(data) == {"apply", "accept", "process", "special", "close"}
    assert data["apply"]["applicant_id_number"] == "511602199201200023"  # unmasked
    assert data["accept"] is None
    assert data["close"] is None
    assert [(s["step_name"], s["status"]) for s in data["process"]] == [
        ("申请", "2"),
        ("受理", "1"),
    ]
    read = AuditRecord.objects.filter(action="cases:case:read").latest("id")
    assert read.after["purpose"] == "dataset"
    assert read.actor == f"user:{world['clerk'].pk}"

    token = machine_token(SCOPE, "exchange-token-0001")
    machine = Client()
    by_number = get(machine, f"/cases/{number}/dataset", Authorization=f"Bearer {token}")
    assert by_number.status_code == 200
    assert by_number.json() == data
    by_id = get(machine, f"/cases/{case_id}/dataset", Authorization=f"Bearer {token}")
    assert by_id.json() == data
    read = AuditRecord.objects.filter(action="cases:case:read").latest("id")
    assert read.actor == "client:exchange-exchange-token-0001"

    narrow = machine_token("registry.population.verify", "narrow-token-0001")
    denied = get(machine, f"/cases/{number}/dataset", Authorization=f"Bearer {narrow}")
    assert error_of(denied, 403)["code"] == "cases.token_scope"
    assert AuditRecord.objects.latest("id").action == "cases:case:dataset_denied"
    assert get(machine, f"/cases/{number}/dataset").status_code == 401
    bogus = get(machine, f"/cases/{number}/dataset", Authorization="Bearer not-a-token")
    assert error_of(bogus, 401)["code"] == "auth.required"
    unknown = get(machine, "/cases/51160020990101999999/dataset", Authorization=f"Bearer {token}")
    assert error_of(unknown, 404)["code"] == "cases.case_unknown"

    draft_body = draft(person)
    assert (
        get(
            machine, f"/cases/{draft_body['id']}/dataset", Authorization=f"Bearer {token}"
        ).status_code
        == 404
    )
    assert error_of(get(clerk, f"/cases/{draft_body['id']}/dataset"), 409)["code"] == (
        "cases.not_submitted"
    )
    supervisor = login(world["supervisor"])
    assert get(supervisor, f"/cases/{case_id}/dataset").status_code == 200


def test_dataset_endpoint_query_count_is_constant(world: dict[str, Any]) -> None:
    person = login(world["person"])
    clerk = login(world["clerk"])
    reviewer = login(world["reviewer"])
    small = submitted_case(person)["case"]["id"]
    large = submitted_case(person)["case"]["id"]
    post(clerk, f"/cases/{large}/accept", {})
    for _ in range(3):
        post(reviewer, f"/cases/{large}/suspend", {"reason": "等待"})
        post(reviewer, f"/cases/{large}/resume", {})
    get(clerk, f"/cases/{small}/dataset")  # warm-up

    def count(case_id: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert get(clerk, f"/cases/{case_id}/dataset").status_code == 200
        return len(queries)

    assert count(small) == count(large)
    assert count(large) <= 16
    assert len(get(clerk, f"/cases/{large}/dataset").json()["process"]) == 9


# --- hostile input -------------------------------------------------------------------------------


def test_hostile_input_gets_the_error_shape_not_a_500(world: dict[str, Any]) -> None:
    person = login(world["person"])
    clerk = login(world["clerk"])
    body = draft(person)
    case_id = body["id"]
    huge = 10**30
    cursor = base64.urlsafe_b64encode(json.dumps([huge]).encode()).decode()
    requests: list[tuple[Client, str, str, Any]] = [
        (person, "post", "/cases", {"item_code": "X\u0000Y"}),
        (person, "post", "/cases", {"item_code": ITEM_PROMISED, "form": "not a dict"}),
        (person, "post", "/cases", {"item_code": ["a"], "form": {}}),
        (person, "post", "/cases", {"item_code": ITEM_PROMISED, "form": {"nonsense": "x"}}),
        (person, "post", "/cases", {"item_code": ITEM_PROMISED, "channel": "\u0000"}),
        (person, "post", "/cases", {"item_code": ITEM_PROMISED, "applicant_user_id": huge}),
        (person, "post", "/cases", {"item_code": "x" * 100_000}),
        (person, "patch", f"/cases/{case_id}/form", {"form": {"contact_phone": huge}}),
        (person, "patch", f"/cases/{case_id}/form", {"form": {"postcode": "6" * 10_000}}),
        (person, "post", f"/cases/{case_id}/materials/reuse", {"stored_file_id": huge}),
        (person, "post", f"/cases/{case_id}/materials/reuse", {"stored_file_id": "abc"}),
        (
            person,
            "post",
            f"/cases/{case_id}/materials/licence",
            {"checklist_index": huge, "licence_identifier": "1.2.156.1"},
        ),
        (person, "post", f"/cases/{case_id}/withdraw", {"reason": 12}),
        (person, "post", f"/cases/{case_id}/delivery", {"method": None}),
        (person, "post", "/cases/progress", {"number": "1" * 33, "password": "1"}),
        (person, "post", "/cases/progress", {"number": [], "password": {}}),
        (person, "get", f"/cases?cursor={cursor}", None),
        (person, "get", "/cases?limit=99999999999999999999", None),
        (person, "get", "/cases?status=%E4%BD%A0", None),
        (person, "get", f"/cases/{'9' * 40}", None),
        (person, "get", "/cases/-1", None),
        (person, "get", "/cases/1e9", None),
        (person, "get", f"/cases/{case_id}/materials/{huge}/file", None),
        (person, "get", f"/cases/{case_id}/notices/{huge}/pdf", None),
        (clerk, "get", f"/workbench/cases?cursor={cursor}", None),
        (clerk, "get", "/tasks?scope=everything", None),
        (clerk, "get", f"/tasks?cursor={cursor}", None),
        (clerk, "get", "/tasks?kind=%00", None),
        (clerk, "post", f"/tasks/{huge}/claim", None),
        (clerk, "post", f"/tasks/{huge}/act", {"action": "accept"}),
        (clerk, "post", "/tasks/1/act", {"action": ["pass"], "checklist": "x"}),
        (clerk, "post", "/tasks/1/transfer", {"department_id": huge, "reason": "x"}),
        (clerk, "post", f"/cases/{case_id}/special", {"kind": "24", "expected_end": "never"}),
        (clerk, "post", f"/cases/{case_id}/correction", {"items": [{"problem": None}]}),
        (clerk, "get", "/cases/%00/dataset", None),
        (clerk, "get", f"/cases/{'1' * 30}/dataset", None),
    ]
    for client, method, path, payload in requests:
        call: Callable[..., Any] = getattr(client, method)
        data = "" if payload is None else json.dumps(payload)
        response = call(f"{API}{path}", data=data, content_type="application/json")
        assert response.status_code < 500, (path, response.content[:300])
        if response.status_code >= 400:
            error_of(response, response.status_code)
    nul_upload = person.post(
        f"{API}/cases/{case_id}/materials",
        {"file": SimpleUploadedFile("a\x00.pdf", PDF, "application/pdf"), "checklist_index": "x"},
    )
    assert 400 <= nul_upload.status_code < 500
    no_file = person.post(f"{API}/cases/{case_id}/materials", {"checklist_index": "0"})
    assert error_of(no_file, 422)["code"] == "request.invalid"
    assert Case.objects.count() == 1


def test_non_ascii_digits_in_a_case_reference(world: dict[str, Any]) -> None:
    person = login(world["person"])
    assert get(person, "/cases/%C2%B2").status_code == 404


def test_huge_department_filter_in_the_inbox(world: dict[str, Any]) -> None:
    clerk = login(world["clerk"])
    assert get(clerk, f"/tasks?department_id={10**20}").status_code == 422


# --- concurrency (PostgreSQL) --------------------------------------------------------------------


def _run_threads(*targets: Callable[[], Any]) -> list[Any]:
    results: list[Any] = [None] * len(targets)
    start = threading.Barrier(len(targets))

    def runner(position: int, target: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=10)
            results[position] = target()
        except Exception as exc:
            results[position] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=runner, args=(i, target)) for i, target in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _cookie_client(client: Client) -> Client:
    copy = Client()
    copy.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return copy


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and threads: PostgreSQL only"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_numbers_the_case_once(world: dict[str, Any]) -> None:
    person = login(world["person"])
    body = draft(person)
    upload_all(person, body)
    path = f"{API}/cases/{body['id']}/submit"

    def submit() -> Any:
        return _cookie_client(person).post(
            path, content_type="application/json", headers={"Idempotency-Key": "same-key-0001"}
        )

    first, second = _run_threads(submit, submit)
    assert not isinstance(first, Exception)
    assert not isinstance(second, Exception)
    codes = sorted([first.status_code, second.status_code])
    assert Case.objects.exclude(number=None).count() == 1
    assert CaseEvent.objects.filter(case_id=body["id"], kind="submit").count() == 1
    # The loser waited on the case's row lock, then found it submitted; it either replays
    # the winner's answer (same key) or is refused as a second submission.
    assert codes in ([200, 200], [200, 409]), codes
    if codes == [200, 200]:
        assert first.json()["case"] == second.json()["case"]
        passwords = {first.json()["query_password"], second.json()["query_password"]}
        assert "（已显示，请查看站内消息或短信）" in passwords  # the replay does not repeat it


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_same_key_submit_replays_the_answer(world: dict[str, Any]) -> None:
    person = login(world["person"])
    body = draft(person)
    upload_all(person, body)
    path = f"{API}/cases/{body['id']}/submit"

    def submit() -> Any:
        return _cookie_client(person).post(
            path, content_type="application/json", headers={"Idempotency-Key": "same-key-0002"}
        )

    first, second = _run_threads(submit, submit)
    assert [first.status_code, second.status_code] == [200, 200]
    assert first.json()["case"] == second.json()["case"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_get_distinct_numbers(world: dict[str, Any]) -> None:
    person = login(world["person"])
    bodies = []
    for _ in range(4):
        body = draft(person)
        upload_all(person, body)
        bodies.append(body)

    def submitter(case_id: int) -> Callable[[], Any]:
        return lambda: _cookie_client(person).post(
            f"{API}/cases/{case_id}/submit", content_type="application/json"
        )

    results = _run_threads(*(submitter(b["id"]) for b in bodies))
    assert all(not isinstance(r, Exception) and r.status_code == 200 for r in results), [
        getattr(r, "content", r) for r in results
    ]
    numbers = {r.json()["case"]["number"] for r in results}
    assert len(numbers) == 4
    assert {int(n[-6:]) for n in numbers} == {1, 2, 3, 4}
    assert Case.objects.filter(status=CaseStatus.SUBMITTED).count() == 4
    assert CaseTask.objects.filter(kind=TaskKind.ACCEPT, status="open").count() == 4
