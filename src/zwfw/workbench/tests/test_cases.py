"""The case detail page and its actions, per role; a refused action changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zwfw.cases import services
from zwfw.cases.models import (
    Case,
    CaseEvent,
    CaseMaterial,
    CaseStatus,
    CaseTask,
    CorrectionRequest,
    Notice,
    TaskKind,
)
from zwfw.core.models import AuditRecord
from zwfw.workbench.tests.conftest import ITEM_PROMISED, PDF, client_for, open_task, submitted

pytestmark = pytest.mark.django_db


def url(case: Case, suffix: str = "") -> str:
    return f"/workbench/cases/{case.number}/{suffix}"


def snapshot(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (
        case.status,
        case.due_date,
        case.events.count(),
        case.notices.count(),
        list(case.tasks.order_by("id").values_list("status", "assignee_id", "department_id")),
        CorrectionRequest.objects.filter(case=case).count(),
    )


def test_detail_shows_masked_applicant_materials_and_history(
    world: dict[str, Any], case: Case
) -> None:
    response = client_for(world["clerk"]).get(url(case))
    assert response.status_code == 200
    page = response.content.decode()
    assert "李*" in page
    assert "511***********0023" in page
    assert "511602199201200023" not in page
    assert "食品经营许可申请书" in page
    assert "提交申请" in page or "submit" in [e.kind for e in response.context["events"]]
    read = AuditRecord.objects.filter(action="cases:case:read", object_id=str(case.pk)).last()
    assert read is not None
    assert read.after["purpose"] == "handle"


def test_unmasking_is_audited(world: dict[str, Any], case: Case) -> None:
    response = client_for(world["clerk"]).get(url(case) + "?reveal=1")
    page = response.content.decode()
    assert "511602199201200023" in page
    assert "李娜" in page
    unmask = [
        r
        for r in AuditRecord.objects.filter(action="cases:case:read", object_id=str(case.pk))
        if r.after["purpose"] == "unmask"
    ]
    assert len(unmask) == 1
    assert "applicant_id_number" in unmask[0].after["fields"]
    assert unmask[0].actor == f"user:{world['clerk'].pk}"


def test_staff_of_another_department_get_404_and_no_read_is_recorded(
    world: dict[str, Any], case: Case
) -> None:
    assert client_for(world["ecology_reviewer"]).get(url(case)).status_code == 404
    material = case.materials.first()
    assert material is not None
    response = client_for(world["ecology_reviewer"]).get(url(case, f"materials/{material.pk}/"))
    assert response.status_code == 404
    assert not AuditRecord.objects.filter(action="cases:case:read").exists()


def test_material_preview_streams_the_file_after_the_check(
    world: dict[str, Any], case: Case
) -> None:
    material = case.materials.order_by("id").first()
    assert material is not None
    assert material.file is not None
    client = client_for(world["reviewer"])
    response = client.get(url(case, f"materials/{material.pk}/"))
    assert response.status_code == 200
    assert response.content == PDF + bytes([material.checklist_index or 0])
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    reads = AuditRecord.objects.filter(action="cases:case:read", object_id=str(case.pk))
    assert [r.after["purpose"] for r in reads] == ["material"]
    page = client.get(url(case) + f"?preview={material.pk}").content.decode()
    assert f'<iframe src="/workbench/cases/{case.number}/materials/{material.pk}/"' in page
    assert client.get(url(case, "materials/999999/")).status_code == 404


def test_clerk_accepts_and_the_notice_downloads(world: dict[str, Any], case: Case) -> None:
    task = open_task(case, TaskKind.ACCEPT)
    client = client_for(world["clerk"])
    response = client.post(
        f"/workbench/tasks/{task.pk}/act/", {"action": "accept", "opinion": "材料齐全"}
    )
    assert response.status_code == 302
    assert response["Location"] == url(case)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.due_date is not None
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    page = client.get(url(case)).content.decode()
    assert "已受理。" in page
    assert "受理通知书" in page
    pdf = client.get(url(case, f"notices/{notice.pk}/"))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_reviewer_cannot_accept_and_nothing_changes(world: dict[str, Any], case: Case) -> None:
    task = open_task(case, TaskKind.ACCEPT)
    before = snapshot(case)
    response = client_for(world["reviewer"]).post(
        f"/workbench/tasks/{task.pk}/act/", {"action": "accept"}
    )
    assert response.status_code == 403
    assert "窗口人员" in response.content.decode()
    assert snapshot(case) == before
    response = client_for(world["reviewer"]).post(url(case, "act/"), {"action": "accept"})
    assert response.status_code == 403
    assert snapshot(case) == before


def test_refusal_needs_a_reason(world: dict[str, Any], case: Case) -> None:
    task = open_task(case, TaskKind.ACCEPT)
    before = snapshot(case)
    client = client_for(world["clerk"])
    response = client.post(f"/workbench/tasks/{task.pk}/act/", {"action": "refuse", "opinion": ""})
    assert response.status_code == 400
    assert snapshot(case) == before
    response = client.post(
        f"/workbench/tasks/{task.pk}/act/", {"action": "refuse", "opinion": "不属于本部门职责"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.refusal_reason) == (CaseStatus.REFUSED, "不属于本部门职责")


def test_review_with_checklist_then_decision(world: dict[str, Any], case: Case) -> None:
    services.accept(world["clerk"], case)
    review = open_task(case, TaskKind.REVIEW)
    reviewer = client_for(world["reviewer"])
    page = reviewer.get(url(case)).content.decode()
    assert "从业人员健康证明齐全" in page  # 审查要点 of the item
    # The decider may not pass a review step: refused, nothing changed.
    before = snapshot(case)
    denied = client_for(world["decider"]).post(
        f"/workbench/tasks/{review.pk}/act/", {"action": "pass"}
    )
    assert denied.status_code == 403
    assert snapshot(case) == before
    response = reviewer.post(
        f"/workbench/tasks/{review.pk}/act/",
        {"action": "pass", "opinion": "符合条件", "point": ["0", "2"], "point_note_2": "已核"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == CaseTask.Status.DONE
    assert [(p["index"], p["ok"], p["note"]) for p in review.checklist] == [
        (0, True, ""),
        (1, False, ""),
        (2, True, "已核"),
    ]
    decide = open_task(case, TaskKind.DECIDE)
    decider = client_for(world["decider"])
    response = decider.post(f"/workbench/tasks/{decide.pk}/act/", {"action": "reject"})
    assert response.status_code == 400  # 不予许可 needs a reason
    response = decider.post(
        f"/workbench/tasks/{decide.pk}/act/", {"action": "approve", "opinion": "准予许可"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.decision) == (CaseStatus.CLOSED, "approve")
    history = decider.get(url(case)).content.decode()
    assert "✓ 申请人主体资格" in history
    assert "✗ 经营场所符合要求" in history


def test_return_sends_the_case_back_a_step(world: dict[str, Any], case: Case) -> None:
    services.accept(world["clerk"], case)
    services.act(world["reviewer"], open_task(case, TaskKind.REVIEW), "pass")
    decide = open_task(case, TaskKind.DECIDE)
    response = client_for(world["decider"]).post(
        f"/workbench/tasks/{decide.pk}/act/", {"action": "return", "opinion": "请补充现场核查"}
    )
    assert response.status_code == 302
    again = open_task(case, TaskKind.REVIEW)
    assert again.status == CaseTask.Status.OPEN
    assert case.events.filter(kind="send_back", opinion="请补充现场核查").count() == 1


def test_correction_builder_preview_then_issue(world: dict[str, Any], case: Case) -> None:
    client = client_for(world["clerk"])
    builder = client.get(url(case, "correction/"))
    assert builder.status_code == 200
    rows = builder.context["rows"]
    assert [r["name"] for r in rows][:1] == ["食品经营许可申请书"]
    form = {
        "c_0": "1",
        "p_0": "申请书未签字",
        "x_name_0": "从业人员健康证明（张三）",
        "x_problem_0": "缺少一名从业人员的健康证明",
        "note": "请一并补正",
        "action": "preview",
    }
    preview = client.post(url(case, "correction/"), form)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "补正告知书预览" in page
    assert "申请书未签字" in page
    assert "缺少一名从业人员的健康证明" in page
    assert not CorrectionRequest.objects.filter(case=case).exists()  # a preview writes nothing

    issued = client.post(url(case, "correction/"), {**form, "action": "issue"})
    assert issued.status_code == 302
    request = CorrectionRequest.objects.get(case=case)
    assert request.items == [
        {"checklist_index": 0, "material": "食品经营许可申请书", "problem": "申请书未签字"},
        {
            "checklist_index": None,
            "material": "从业人员健康证明（张三）",
            "problem": "缺少一名从业人员的健康证明",
        },
    ]
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION
    assert case.notices.filter(kind=Notice.Kind.CORRECTION).count() == 1
    material = case.materials.get(checklist_index=0)
    assert material.status == CaseMaterial.Status.NEEDS_CORRECTION


def test_correction_builder_refuses_incomplete_rows_and_outsiders(
    world: dict[str, Any], case: Case
) -> None:
    before = snapshot(case)
    clerk = client_for(world["clerk"])
    empty = clerk.post(url(case, "correction/"), {"action": "issue"})
    assert empty.status_code == 400
    no_problem = clerk.post(url(case, "correction/"), {"c_0": "1", "p_0": "", "action": "issue"})
    assert no_problem.status_code == 400
    assert "须写明材料名称和问题" in no_problem.content.decode()
    bad_date = clerk.post(
        url(case, "correction/"), {"c_0": "1", "p_0": "x", "deadline": "明天", "action": "issue"}
    )
    assert bad_date.status_code == 400
    reviewer = client_for(world["reviewer"]).post(
        url(case, "correction/"), {"c_0": "1", "p_0": "x", "action": "issue"}
    )
    assert reviewer.status_code == 403  # acceptance-time corrections are the clerk's
    outsider = client_for(world["ecology_reviewer"]).post(
        url(case, "correction/"), {"c_0": "1", "p_0": "x", "action": "issue"}
    )
    assert outsider.status_code == 404
    assert snapshot(case) == before


def test_special_procedure_and_suspension(world: dict[str, Any], case: Case) -> None:
    services.accept(world["clerk"], case)
    reviewer = client_for(world["reviewer"])
    end = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    response = reviewer.post(
        url(case, "act/"),
        {"action": "special_start", "kind": "22", "reason": "需要检验", "expected_end": end},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.SPECIAL
    assert case.paused_since is not None
    reviewer.post(url(case, "act/"), {"action": "special_end", "result": "检验合格"})
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.special_procedures.get().result == "检验合格"

    before = snapshot(case)
    assert (
        client_for(world["ecology_reviewer"])
        .post(url(case, "act/"), {"action": "suspend", "reason": "x"})
        .status_code
        == 404
    )
    assert reviewer.post(url(case, "act/"), {"action": "suspend", "reason": ""}).status_code == 400
    assert (
        reviewer.post(
            url(case, "act/"),
            {"action": "special_start", "kind": "22", "reason": "x", "expected_end": "soon"},
        ).status_code
        == 400
    )
    assert snapshot(case) == before
    reviewer.post(url(case, "act/"), {"action": "suspend", "reason": "等待法院裁定"})
    case.refresh_from_db()
    assert case.status == CaseStatus.SUSPENDED
    reviewer.post(url(case, "act/"), {"action": "resume", "opinion": "裁定已出"})
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert list(
        case.events.filter(kind__in=["special_start", "special_end", "suspend", "resume"])
        .order_by("id")
        .values_list("kind", flat=True)
    ) == ["special_start", "special_end", "suspend", "resume"]


def test_transfer_moves_the_task_and_denial_changes_nothing(
    world: dict[str, Any], case: Case
) -> None:
    services.accept(world["clerk"], case)
    review = open_task(case, TaskKind.REVIEW)
    before = snapshot(case)
    target = world["planning"].pk
    denied = client_for(world["decider"]).post(
        f"/workbench/tasks/{review.pk}/act/",
        {"action": "transfer", "department": target, "reason": "x"},
    )
    assert denied.status_code == 403
    no_department = client_for(world["reviewer"]).post(
        f"/workbench/tasks/{review.pk}/act/", {"action": "transfer", "reason": "x"}
    )
    assert no_department.status_code == 400
    assert snapshot(case) == before
    response = client_for(world["reviewer"]).post(
        f"/workbench/tasks/{review.pk}/act/",
        {"action": "transfer", "department": target, "reason": "属规划部门职责"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.department_id == target
    assert case.events.filter(kind="transfer").count() == 1


def test_case_search_lists_department_cases(world: dict[str, Any], case: Case) -> None:
    client = client_for(world["reviewer"])
    response = client.get("/workbench/cases/")
    assert [c.pk for c in response.context["rows"]] == [case.pk]
    assert client.get("/workbench/cases/?status=closed").context["rows"] == []
    assert client.get("/workbench/cases/?status=bogus").status_code == 400
    jump = client.get("/workbench/cases/", {"number": case.number})
    assert jump["Location"] == url(case)
    assert client_for(world["ecology_reviewer"]).get("/workbench/cases/").context["rows"] == []


def test_detail_query_count_is_bounded(world: dict[str, Any], count_queries: Any) -> None:
    case = submitted(world)
    services.accept(world["clerk"], case)
    reviewer = client_for(world["reviewer"])
    reviewer.get(url(case))
    with count_queries(30) as counted:
        reviewer.get(url(case))
    first = len(counted)
    # More history and materials do not add queries.
    review = open_task(case, TaskKind.REVIEW)
    services.act(world["reviewer"], review, "pass", opinion="ok")
    decide = open_task(case, TaskKind.DECIDE)
    services.act(world["decider"], decide, "return", reason="再审")
    with count_queries(first):
        response = reviewer.get(url(case))
    assert response.status_code == 200
    assert CaseEvent.objects.filter(case=case).count() == 4


def test_form_values_of_a_person_are_masked_until_revealed(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], "XK00012000-3-511600-11511600511600040M-01")
    services.update_draft(
        world["person"],
        case,
        {"contact_name": "李娜", "contact_phone": "13800138000", "address": "广安区建设路1号"},
    )
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if entry.get("required", True):
            services.add_material_upload(
                world["person"],
                case,
                checklist_index=index,
                name="m.pdf",
                data=PDF + bytes([index]),
            )
    case = services.submit(world["person"], case).case
    client = client_for(world["clerk"])
    masked = dict(client.get(url(case)).context["form_rows"])
    assert (masked["联系人"], masked["联系电话"], masked["通讯地址"]) == (
        "李*",
        "138****8000",
        "（已隐藏）",
    )
    shown = dict(client.get(url(case) + "?reveal=1").context["form_rows"])
    assert (shown["联系人"], shown["联系电话"], shown["通讯地址"]) == (
        "李娜",
        "13800138000",
        "广安区建设路1号",
    )


def test_a_companys_uscc_is_not_masked(world: dict[str, Any]) -> None:
    company = world["company"]
    case = services.create_draft(
        world["agent"], "XK00012000-3-511600-11511600511600040M-01", acting_uscc=company.uscc
    )
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if entry.get("required", True):
            services.add_material_upload(
                world["agent"],
                case,
                checklist_index=index,
                name="m.pdf",
                data=PDF + bytes([index]),
                acting_uscc=company.uscc,
            )
    case = services.submit(world["agent"], case, acting_uscc=company.uscc).case
    applicant = dict(client_for(world["clerk"]).get(url(case)).context["applicant"])
    assert applicant["申请者"] == "示例餐饮管理有限公司"
    assert applicant["证件号码"] == "91511602MA6CXY2P91"


def test_unknown_references_are_404_not_500(world: dict[str, Any], case: Case) -> None:
    clerk = client_for(world["clerk"])
    assert clerk.get("/workbench/cases/abc/").status_code == 404
    assert clerk.get("/workbench/cases/1234567890123/").status_code == 404
    assert clerk.post("/workbench/tasks/999999/act/", {"action": "pass"}).status_code == 404
    assert clerk.post("/workbench/tasks/999999/claim/").status_code == 404
    assert clerk.get(url(case, "notices/999999/")).status_code == 404
    assert clerk.get(url(case) + "?preview=abc").status_code == 200
    task = open_task(case, TaskKind.ACCEPT)
    assert clerk.post(f"/workbench/tasks/{task.pk}/act/", {"action": "fly"}).status_code == 400
    assert clerk.post(url(case, "act/"), {"action": "fly"}).status_code == 400
    assert clerk.get(f"/workbench/tasks/{task.pk}/act/").status_code == 405


def test_a_named_licence_shows_through_the_applicants_grant(world: dict[str, Any]) -> None:
    from zwfw.licences.models import LicenceGrant
    from zwfw.licences.tests.test_issue import closed_case_licence

    licence = closed_case_licence(world)
    user = world["person"]
    case = services.create_draft(user, ITEM_PROMISED)
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if index == 1:
            services.reference_licence(
                user, case, checklist_index=1, licence_identifier=licence.identifier
            )
        elif entry.get("required", True):
            services.add_material_upload(
                user, case, checklist_index=index, name=f"m{index}.pdf", data=PDF + bytes([index])
            )
    case = services.submit(user, case).case
    page = client_for(world["clerk"]).get(url(case)).content.decode()
    assert "持证人已授权本部门用证" in page
    assert "许可事项：" in page
    assert "511***********0023" in page
    assert "511602199201200023" not in page
    assert LicenceGrant.objects.get(case=case).reads == 1
    assert AuditRecord.objects.filter(
        action="licences:licence:read", after__purpose=f"case {case.number} materials"
    ).exists()
    # without the grant the page shows only that the licence exists and its status
    LicenceGrant.objects.filter(case=case).update(revoked_at=timezone.now())
    page = client_for(world["clerk"]).get(url(case)).content.decode()
    assert "未获用证授权" in page
    assert "许可事项：" not in page
