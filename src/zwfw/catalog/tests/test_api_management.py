"""The catalogue management API per role: officers, reviewers, other staff, anonymous."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from zwfw.catalog.models import ChangeRequest, Item, ItemVersion
from zwfw.catalog.tests import factories
from zwfw.core.models import AuditRecord, IdempotencyRecord
from zwfw.organisations import services as organisations
from zwfw.organisations.models import Role

pytestmark = pytest.mark.django_db

CODE = "XK00012000-3-511600-11511600511600040M-01"


def _client(user: Any | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def staff() -> dict[str, Any]:
    market = factories.department()
    police = factories.department("广安市公安局")
    users: dict[str, Any] = {"market": market, "police": police}
    for name, role, department in [
        ("officer", Role.CATALOG_OFFICER, market),
        ("police_officer", Role.CATALOG_OFFICER, police),
        ("staffing", Role.CATALOG_REVIEWER, police),
        ("legal", Role.CATALOG_REVIEWER, police),
        ("clerk", Role.CLERK, market),
    ]:
        user = get_user_model().objects.create_user(name, password="x" * 12)
        organisations.grant_role(user=user, department=department, role=role)
        users[name] = user
    return users


def _post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def _draft(staff: dict[str, Any], **content: Any) -> Any:
    return _post(
        _client(staff["officer"]),
        "/api/v1/catalog/change-requests",
        {
            "kind": "add",
            "department_id": staff["market"].pk,
            "proposals": [factories.content(**content)],
        },
    )


def _publish(staff: dict[str, Any], change_id: int) -> None:
    base = f"/api/v1/catalog/change-requests/{change_id}"
    assert _post(_client(staff["officer"]), f"{base}/submit", {}).status_code == 200
    for reviewer in ("staffing", "legal"):
        response = _post(_client(staff[reviewer]), f"{base}/review", {"approve": True})
        assert response.status_code == 200, response.json()


def test_anonymous_gets_401_and_changes_nothing(staff) -> None:
    anonymous = _client(None)
    assert anonymous.get("/api/v1/catalog/manage/items").status_code == 401
    response = _post(
        anonymous,
        "/api/v1/catalog/change-requests",
        {"kind": "add", "department_id": staff["market"].pk, "proposals": [factories.content()]},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "auth.required"
    assert not ChangeRequest.objects.exists()


def test_officer_drafts_reviewers_publish_j6_change_and_diff(staff) -> None:
    created = _draft(staff, promised_time_limit={"value": 15, "unit": "1"})
    assert created.status_code == 201
    _publish(staff, created.json()["id"])
    item = Item.objects.get(implementation_code=CODE)
    assert item.promised_days == 15

    new = factories.content(promised_time_limit={"value": 10, "unit": "1"})
    new["materials"].append({"name": "从业人员健康证明", "kinds": ["3"], "forms": ["2"]})
    change = _post(
        _client(staff["officer"]),
        "/api/v1/catalog/change-requests",
        {
            "kind": "change",
            "department_id": staff["market"].pk,
            "sources": [CODE],
            "proposals": [new],
        },
    )
    assert change.status_code == 201, change.json()
    _publish(staff, change.json()["id"])

    public = _client(None)
    versions = public.get(f"/api/v1/catalog/items/{CODE}/versions").json()
    assert [(v["number"], v["change_kind"]) for v in versions] == [(1, "add"), (2, "change")]
    first = public.get(f"/api/v1/catalog/items/{CODE}/versions/1").json()
    assert first["content"]["promised_time_limit"]["value"] == 15
    changes = public.get(f"/api/v1/catalog/items/{CODE}/diff", {"from": 1, "to": 2}).json()
    assert [(c["path"], c["kind"]) for c in changes["changes"]] == [
        ("promised_time_limit.value", "changed"),
        ("materials[从业人员健康证明]", "added"),
    ]
    assert public.get(f"/api/v1/catalog/items/{CODE}/versions/3").json()["code"] == (
        "catalog.version_unknown"
    )


def test_idempotency_key_replays_without_a_second_request(staff) -> None:
    client = _client(staff["officer"])
    body = {"kind": "add", "department_id": staff["market"].pk, "proposals": [factories.content()]}
    first = _post(
        client, "/api/v1/catalog/change-requests", body, **{"Idempotency-Key": "key-00000001"}
    )
    again = _post(
        client, "/api/v1/catalog/change-requests", body, **{"Idempotency-Key": "key-00000001"}
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert ChangeRequest.objects.count() == 1
    body["reason"] = "不同的请求"
    reused = _post(
        client, "/api/v1/catalog/change-requests", body, **{"Idempotency-Key": "key-00000001"}
    )
    assert reused.status_code == 409
    assert reused.json()["code"] == "idempotency.key_reused"
    bad = _post(client, "/api/v1/catalog/change-requests", body, **{"Idempotency-Key": "short"})
    assert bad.json()["code"] == "idempotency.key_format"
    assert ChangeRequest.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.parametrize("role", ["police_officer", "clerk", "staffing"])
def test_other_staff_cannot_draft_for_the_department(staff, role) -> None:
    audit_before = AuditRecord.objects.count()
    response = _post(
        _client(staff[role]),
        "/api/v1/catalog/change-requests",
        {"kind": "add", "department_id": staff["market"].pk, "proposals": [factories.content()]},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "catalog.not_department_officer"
    assert not ChangeRequest.objects.exists()
    assert AuditRecord.objects.count() == audit_before


def test_officer_cannot_review_and_other_officer_cannot_see(staff) -> None:
    change_id = _draft(staff).json()["id"]
    base = f"/api/v1/catalog/change-requests/{change_id}"
    assert _client(staff["police_officer"]).get(base).status_code == 404
    assert _post(_client(staff["police_officer"]), f"{base}/submit", {}).status_code == 404
    _post(_client(staff["officer"]), f"{base}/submit", {})
    denied = _post(_client(staff["officer"]), f"{base}/review", {"approve": True})
    assert denied.status_code == 403
    assert denied.json()["code"] == "catalog.not_reviewer"
    queue = _client(staff["staffing"]).get("/api/v1/catalog/change-requests").json()
    assert [c["id"] for c in queue["items"]] == [change_id]
    assert ChangeRequest.objects.get().current_step == 0


def test_staff_item_lists_are_scoped(staff) -> None:
    _publish(staff, _draft(staff).json()["id"])
    mine = _client(staff["officer"]).get("/api/v1/catalog/manage/items").json()
    assert [i["implementation_code"] for i in mine["items"]] == [CODE]
    others = _client(staff["police_officer"]).get("/api/v1/catalog/manage/items").json()
    assert others["items"] == []
    reviewer = _client(staff["staffing"]).get("/api/v1/catalog/manage/items").json()
    assert len(reviewer["items"]) == 1


def test_drafts_are_not_public(staff) -> None:
    _draft(staff)
    response = _client(None).get(f"/api/v1/catalog/items/{CODE}/versions")
    assert response.status_code == 404
    assert response.json()["code"] == "catalog.item_unknown"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "explode", "department_id": 0}, 404, "department.unknown"),
        ({"kind": "explode"}, 400, "catalog.change_kind"),
        ({"department_id": "x"}, 422, "request.invalid"),
        ({"kind": "add", "proposals": "x"}, 422, "request.invalid"),
        ({"kind": "add", "proposals": [{"name": ["list"]}]}, 400, "catalog.content_invalid"),
        ({"kind": "add", "proposals": [[]]}, 422, "request.invalid"),
        ({"kind": "change", "sources": ["NOPE"], "proposals": []}, 400, "catalog.source_unknown"),
        (
            {"kind": "add", "proposals": [factories.content(name="")]},
            400,
            "catalog.content_invalid",
        ),
        ({"kind": "split", "proposals": []}, 400, "catalog.change_shape"),
    ],
)
def test_bad_input_is_a_clear_4xx(staff, body, status, code) -> None:
    body = {"department_id": staff["market"].pk, **body}
    response = _post(_client(staff["officer"]), "/api/v1/catalog/change-requests", body)
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert not ChangeRequest.objects.exists()


def test_content_errors_name_each_field(staff) -> None:
    response = _draft(staff, item_type="99", materials=[{"name": ""}])
    errors = response.json()["details"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [
        ("item_type", "catalog.code_unknown"),
        ("materials.0.name", "catalog.string_too_short"),
    ]


def test_lineage_endpoint_after_split(staff) -> None:
    _publish(staff, _draft(staff).json()["id"])
    parts = [
        factories.content(name="甲", implementation_code="S-A"),
        factories.content(name="乙", implementation_code="S-B"),
    ]
    split = _post(
        _client(staff["officer"]),
        "/api/v1/catalog/change-requests",
        {
            "kind": "split",
            "department_id": staff["market"].pk,
            "sources": [CODE],
            "proposals": parts,
            "reason": "按品种拆分",
        },
    )
    _publish(staff, split.json()["id"])
    lineage = _client(None).get(f"/api/v1/catalog/items/{CODE}/lineage").json()
    assert sorted(s["implementation_code"] for s in lineage["successors"]) == ["S-A", "S-B"]
    back = _client(None).get("/api/v1/catalog/items/S-A/lineage").json()
    assert [p["implementation_code"] for p in back["predecessors"]] == [CODE]
    assert ItemVersion.objects.filter(item__implementation_code=CODE).count() == 1
