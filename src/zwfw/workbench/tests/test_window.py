"""窗口收件 (J7): the clerk finds the person, applies, scans the paper materials, submits and
accepts; the acceptance notice is on the case page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zwfw.cases.models import Case, CaseStatus, Notice, SubmitChannel
from zwfw.core.models import AuditRecord
from zwfw.identity.models import User
from zwfw.workbench.tests.conftest import ITEM_PROMISED, PDF, client_for

pytestmark = pytest.mark.django_db

ELDER_ID = "511602194603150011"


@pytest.fixture
def elder(world: dict[str, Any]) -> User:
    return User.objects.create_user(
        "liudefu",
        password=None,
        kind="person",
        real_name="刘德福",
        id_type="111",
        id_number=ELDER_ID,
        trust_level="L4",
    )


def test_window_intake_from_lookup_to_acceptance(world: dict[str, Any], elder: User) -> None:
    clerk = client_for(world["clerk"])
    start = clerk.get("/workbench/window/")
    assert start.status_code == 200
    assert ITEM_PROMISED in [i.implementation_code for i in start.context["items"]]
    found = clerk.post(
        "/workbench/window/", {"id_number": ELDER_ID, "item": ITEM_PROMISED, "action": "find"}
    )
    assert found.status_code == 200
    assert found.context["person"]["name"] == "刘**"
    assert "511***********0011" in found.content.decode()
    reads = AuditRecord.objects.filter(action="identity:user:read", object_id=str(elder.pk))
    assert [r.after["purpose"] for r in reads] == ["window_intake"]

    created = clerk.post(
        "/workbench/window/",
        {
            "id_number": ELDER_ID,
            "item": ITEM_PROMISED,
            "action": "create",
            "f_contact_name": "刘德福",
            "f_address": "广安区滨河路8号",
        },
    )
    assert created.status_code == 302
    case = Case.objects.get()
    assert created["Location"] == f"/workbench/window/{case.pk}/"
    assert (case.applicant_user, case.agent, case.channel) == (
        elder,
        world["clerk"],
        SubmitChannel.WINDOW,
    )
    from zwfw.cases.services import form_values

    assert form_values(case)["address"] == "广安区滨河路8号"

    # Submitting before the scans: refused, still a draft.
    early = clerk.post(f"/workbench/window/{case.pk}/", {"action": "submit"})
    assert early.status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT

    page = clerk.get(f"/workbench/window/{case.pk}/")
    required = [r["index"] for r in page.context["rows"] if r["required"]]
    for index in required:
        response = clerk.post(
            f"/workbench/window/{case.pk}/",
            {
                "index": str(index),
                "copy_level": "B",
                "file": SimpleUploadedFile(f"scan-{index}.pdf", PDF + bytes([index])),
            },
        )
        assert response.status_code == 302
    materials = list(case.materials.select_related("file"))
    assert sorted(m.checklist_index for m in materials) == required
    assert {m.file.copy_level for m in materials if m.file} == {"B"}

    done = clerk.post(f"/workbench/window/{case.pk}/", {"action": "submit", "opinion": "现场受理"})
    case.refresh_from_db()
    assert done.status_code == 302
    assert done["Location"] == f"/workbench/cases/{case.number}/"
    assert case.status == CaseStatus.IN_PROGRESS
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    detail = clerk.get(done["Location"]).content.decode()
    assert "查询密码：" in detail
    assert f"/workbench/cases/{case.number}/notices/{notice.pk}/" in detail
    # The draft page is gone once submitted.
    assert clerk.get(f"/workbench/window/{case.pk}/").status_code == 404


def test_window_lookup_errors_and_other_roles(world: dict[str, Any], elder: User) -> None:
    clerk = client_for(world["clerk"])
    bad = clerk.post("/workbench/window/", {"id_number": "12345", "item": ITEM_PROMISED})
    assert bad.status_code == 400
    unknown = clerk.post(
        "/workbench/window/", {"id_number": "11010119900307451X", "item": ITEM_PROMISED}
    )
    assert unknown.status_code == 404
    assert "窗口登记" in unknown.content.decode()
    no_item = clerk.post("/workbench/window/", {"id_number": ELDER_ID, "item": "NOPE"})
    assert no_item.status_code == 400
    assert client_for(world["reviewer"]).get("/workbench/window/").status_code == 403
    assert not Case.objects.exists()


def test_another_clerks_window_draft_is_not_reachable(world: dict[str, Any], elder: User) -> None:
    from zwfw.cases import services

    case = services.create_draft(
        elder, ITEM_PROMISED, clerk=world["clerk"], channel=SubmitChannel.WINDOW
    )
    from zwfw.organisations import services as organisations
    from zwfw.organisations.models import Role

    other = User.objects.create_user("clerk2", password="x" * 12, kind="staff")
    organisations.grant_role(user=other, department=world["market"], role=Role.CLERK)
    response = client_for(other).post(
        f"/workbench/window/{case.pk}/",
        {"index": "0", "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    assert response.status_code == 404
    assert not case.materials.exists()
