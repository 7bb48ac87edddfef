"""Case lifecycle through the services: every transition and its forbidden variants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from zwfw.cases import services
from zwfw.cases.models import Case, CaseEvent, CaseStatus, CaseTask, Notice, TaskKind
from zwfw.cases.tests.conftest import ITEM_IMMEDIATE, ITEM_PARALLEL, ITEM_PROMISED, PDF
from zwfw.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from zwfw.core.models import AuditRecord

pytestmark = pytest.mark.django_db


def submitted(world: dict[str, Any], item: str = ITEM_PROMISED, **kwargs: Any) -> Case:
    user = kwargs.pop("user", world["person"])
    case = services.create_draft(user, item, **kwargs)
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if entry.get("required", True):
            services.add_material_upload(
                user,
                case,
                checklist_index=index,
                name=f"m{index}.pdf",
                data=PDF + str(index).encode(),
                acting_uscc=kwargs.get("acting_uscc"),
            )
    return services.submit(user, case, acting_uscc=kwargs.get("acting_uscc")).case


def open_task(case: Case, kind: str | None = None, department: Any = None) -> CaseTask:
    tasks = case.tasks.filter(status=CaseTask.Status.OPEN)
    if kind:
        tasks = tasks.filter(kind=kind)
    if department is not None:
        tasks = tasks.filter(department=department)
    task = tasks.order_by("id").first()
    assert task is not None, list(case.tasks.values_list("name", "status"))
    return task


def test_promised_case_full_lifecycle(world: dict[str, Any]) -> None:
    case = submitted(world)
    assert case.status == CaseStatus.SUBMITTED
    assert case.number
    assert len(case.number) == 20
    assert case.number.startswith("511600")
    accept_task = open_task(case, TaskKind.ACCEPT)
    assert accept_task.department == world["market"]
    assert accept_task.role == "clerk"

    case = services.accept(world["clerk"], case, opinion="材料齐全")
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.clock_start is not None
    assert case.due_date is not None
    assert case.notices.filter(kind=Notice.Kind.ACCEPTANCE).count() == 1
    review = open_task(case, TaskKind.REVIEW)
    services.act(
        world["reviewer"],
        review,
        "pass",
        opinion="符合条件",
        checklist=[{"index": 0, "ok": True}, {"index": 2, "ok": True, "note": "已核"}],
    )
    review.refresh_from_db()
    assert review.status == CaseTask.Status.DONE
    assert [p["index"] for p in review.checklist] == [0, 2]
    decide = open_task(case, TaskKind.DECIDE)
    assert decide.role == "decider"
    case = services.act(world["decider"], decide, "approve", opinion="准予许可")
    assert case.status == CaseStatus.CLOSED
    assert case.decision == "approve"
    assert case.notices.filter(kind=Notice.Kind.APPROVAL).count() == 1
    kinds = list(case.events.order_by("id").values_list("kind", flat=True))
    assert kinds == ["submit", "accept", "review", "decide", "close"]
    assert not case.tasks.filter(status=CaseTask.Status.OPEN).exists()
    actions = set(
        AuditRecord.objects.filter(object_type="cases.case", object_id=str(case.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"cases:case:submit", "cases:case:accept", "cases:case:task_approve"} <= actions


def test_refuse_needs_reason_and_ends_case(world: dict[str, Any]) -> None:
    case = submitted(world)
    with pytest.raises(ValidationError) as info:
        services.refuse(world["clerk"], case, "  ")
    assert info.value.code == "cases.reason_required"
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    case = services.refuse(world["clerk"], case, "不属于本机关职权范围")
    assert case.status == CaseStatus.REFUSED
    assert case.notices.filter(kind=Notice.Kind.REFUSAL).exists()
    assert not case.tasks.filter(status=CaseTask.Status.OPEN).exists()
    with pytest.raises(Conflict):
        services.accept(world["clerk"], case)


def test_accepting_a_withdrawn_case_is_refused(world: dict[str, Any]) -> None:
    case = submitted(world)
    services.withdraw(world["person"], case, "不再需要")
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    with pytest.raises(Conflict) as info:
        services.accept(world["clerk"], case)
    assert info.value.code == "cases.wrong_status"
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert case.accepted_at is None


def test_withdraw_after_decision_is_refused(world: dict[str, Any]) -> None:
    case = submitted(world)
    services.accept(world["clerk"], case)
    services.act(world["reviewer"], open_task(case, TaskKind.REVIEW), "pass")
    services.act(world["decider"], open_task(case, TaskKind.DECIDE), "approve")
    with pytest.raises(Conflict):
        services.withdraw(world["person"], case, "想撤回")


def test_other_department_cannot_act(world: dict[str, Any]) -> None:
    case = submitted(world)
    with pytest.raises(PermissionDenied) as info:
        services.accept(world["planning_reviewer"], case)
    assert info.value.code == "cases.not_your_department"
    services.accept(world["clerk"], case)
    review = open_task(case, TaskKind.REVIEW)
    with pytest.raises(PermissionDenied):
        services.act(world["planning_reviewer"], review, "pass")
    with pytest.raises(PermissionDenied):
        services.act(world["clerk"], review, "pass")  # right department, wrong role
    review.refresh_from_db()
    assert review.status == CaseTask.Status.OPEN


def test_decide_reject_requires_reason(world: dict[str, Any]) -> None:
    case = submitted(world)
    services.accept(world["clerk"], case)
    services.act(world["reviewer"], open_task(case, TaskKind.REVIEW), "pass")
    decide = open_task(case, TaskKind.DECIDE)
    with pytest.raises(ValidationError):
        services.act(world["decider"], decide, "reject")
    decide.refresh_from_db()
    assert decide.status == CaseTask.Status.OPEN
    case = services.act(world["decider"], decide, "reject", reason="经营场所不符合要求")
    assert case.status == CaseStatus.CLOSED
    assert case.decision == "reject"
    assert case.notices.filter(kind=Notice.Kind.REJECTION).exists()


def test_unknown_action_refused(world: dict[str, Any]) -> None:
    case = submitted(world)
    services.accept(world["clerk"], case)
    with pytest.raises(ValidationError) as info:
        services.act(world["reviewer"], open_task(case, TaskKind.REVIEW), "approve")
    assert info.value.code == "cases.action_unknown"


def test_claimed_task_belongs_to_claimer(world: dict[str, Any]) -> None:
    from zwfw.cases.tests.conftest import staff
    from zwfw.organisations.models import Role

    other = staff("reviewer2", Role.REVIEWER, world["market"])
    case = submitted(world)
    services.accept(world["clerk"], case)
    review = open_task(case, TaskKind.REVIEW)
    services.claim(world["reviewer"], review)
    with pytest.raises(Conflict):
        services.claim(other, review)
    with pytest.raises(Conflict):
        services.act(other, review, "pass")
    with pytest.raises(PermissionDenied):
        services.release(other, review)
    services.release(world["reviewer"], review)
    services.claim(other, review)
    services.act(other, review, "pass")


def test_submission_requires_materials_and_is_not_repeated(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], ITEM_PROMISED)
    with pytest.raises(ValidationError) as info:
        services.submit(world["person"], case)
    assert info.value.code == "cases.materials_missing"
    assert len(info.value.details["missing"]) == 3
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
    assert case.number is None
    for index in range(3):
        services.add_material_upload(
            world["person"], case, checklist_index=index, name="a.pdf", data=PDF + bytes([index])
        )
    services.submit(world["person"], case)
    with pytest.raises(Conflict):
        services.submit(world["person"], case)


def test_stranger_cannot_touch_a_case(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], ITEM_PROMISED)
    with pytest.raises(PermissionDenied):
        services.update_draft(world["stranger"], case, {"contact_name": "x"})
    with pytest.raises(PermissionDenied):
        services.add_material_upload(
            world["stranger"], case, checklist_index=0, name="a.pdf", data=PDF
        )
    assert not case.materials.exists()


def test_trust_level_enforced(world: dict[str, Any]) -> None:
    world["stranger"].trust_level = "L1"
    world["stranger"].save()
    with pytest.raises(PermissionDenied) as info:
        services.create_draft(world["stranger"], ITEM_PROMISED)
    assert info.value.code == "identity.trust_level"
    assert not Case.objects.exists()


def test_form_validation_lists_every_problem(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], ITEM_PROMISED)
    with pytest.raises(ValidationError) as info:
        services.update_draft(
            world["person"], case, {"contact_phone": "123", "nonsense": "x", "postcode": "1" * 600}
        )
    codes = sorted(e["code"] for e in info.value.details["errors"])
    assert codes == ["cases.form_too_long", "cases.form_unknown_field", "validation.mobile"] or (
        len(codes) == 3 and "cases.form_unknown_field" in codes
    )


def test_correction_at_acceptance_then_resubmit(world: dict[str, Any]) -> None:
    case = submitted(world)
    with pytest.raises(ValidationError) as info:
        services.request_correction(world["clerk"], case, [])
    assert info.value.code == "cases.correction_empty"
    request = services.request_correction(
        world["clerk"],
        case,
        [
            {"checklist_index": 2, "problem": "平面图不清晰"},
            {"checklist_index": 0, "problem": "申请书未签字"},
        ],
        "请一次性补正以下材料",
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION
    assert len(request.items) == 2
    assert case.clock_start is None  # the clock has not started yet
    with pytest.raises(ValidationError) as info:
        services.resubmit(world["person"], case)
    assert info.value.code == "cases.correction_incomplete"
    with pytest.raises(Conflict):
        services.add_material_upload(
            world["person"], case, checklist_index=1, name="x.pdf", data=PDF + b"x"
        )
    for index in (0, 2):
        services.add_material_upload(
            world["person"], case, checklist_index=index, name="new.pdf", data=PDF + b"new"
        )
    case = services.resubmit(world["person"], case)
    assert case.status == CaseStatus.SUBMITTED
    assert case.notices.filter(kind=Notice.Kind.CORRECTION).count() == 1


def test_parallel_review_cannot_be_decided_early(world: dict[str, Any]) -> None:
    case = submitted(world, ITEM_PARALLEL)
    services.accept(world["clerk"], case)
    reviews = case.tasks.filter(status=CaseTask.Status.OPEN, kind=TaskKind.REVIEW)
    departments = sorted(reviews.values_list("department__name", flat=True))
    assert departments == sorted(
        [
            "广安市市场监督管理局",
            "广安市自然资源和规划局",
            "广安市住房和城乡建设局",
            "广安市生态环境局",
        ]
    )
    assert not case.tasks.filter(kind=TaskKind.DECIDE).exists()
    services.act(world["planning_reviewer"], open_task(case, department=world["planning"]), "pass")
    services.act(world["housing_reviewer"], open_task(case, department=world["housing"]), "pass")
    services.act(world["reviewer"], open_task(case, department=world["market"]), "pass")
    assert not case.tasks.filter(kind=TaskKind.DECIDE).exists()
    services.act(world["ecology_reviewer"], open_task(case, department=world["ecology"]), "pass")
    decide = open_task(case, TaskKind.DECIDE)
    case = services.act(world["decider"], decide, "approve")
    assert case.status == CaseStatus.CLOSED


def test_send_back_reopens_only_that_step(world: dict[str, Any]) -> None:
    case = submitted(world)
    services.accept(world["clerk"], case)
    review = open_task(case, TaskKind.REVIEW)
    services.act(world["reviewer"], review, "pass")
    decide = open_task(case, TaskKind.DECIDE)
    with pytest.raises(ValidationError):
        services.act(world["decider"], decide, "return")  # a reason is required
    services.act(world["decider"], decide, "return", reason="请补充现场核查意见")
    decide.refresh_from_db()
    assert decide.status == CaseTask.Status.CANCELLED
    assert decide.outcome == "return"
    again = open_task(case, TaskKind.REVIEW)
    assert again.pk != review.pk
    assert again.bpmn_id == review.bpmn_id
    assert not case.tasks.filter(kind=TaskKind.DECIDE, status=CaseTask.Status.OPEN).exists()
    services.act(world["reviewer"], again, "pass")
    services.act(world["decider"], open_task(case, TaskKind.DECIDE), "approve")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.events.filter(kind="send_back", action=CaseEvent.Action.RETURN).count() == 1


def test_immediate_case_closes_on_the_spot(world: dict[str, Any]) -> None:
    case = submitted(world, ITEM_IMMEDIATE)
    handle = open_task(case, TaskKind.HANDLE)
    case = services.act(world["clerk"], handle, "approve", opinion="当场办结")
    assert case.status == CaseStatus.CLOSED
    assert case.accepted_at is not None
    assert case.closed_at is not None
    assert case.due_date == case.clock_start


def test_agent_applies_for_company(world: dict[str, Any]) -> None:
    uscc = world["company"].uscc
    case = submitted(world, user=world["agent"], acting_uscc=uscc)
    assert case.company == world["company"]
    assert case.applicant_user == world["rep"]
    assert case.agent == world["agent"]
    assert case.applicant_name == "示例餐饮管理有限公司"
    submit_audit = AuditRecord.objects.get(action="cases:case:submit", object_id=str(case.pk))
    assert submit_audit.actor == f"user:{world['agent'].pk}"
    # Not acting for the company: the agent cannot see or act on it.
    assert not services.is_applicant_side(world["agent"], case, None)
    with pytest.raises(PermissionDenied):
        services.withdraw(world["agent"], case, "x")
    # The authorisation covers only the food licence item.
    with pytest.raises(PermissionDenied) as info:
        services.create_draft(world["agent"], ITEM_PARALLEL, acting_uscc=uscc)
    assert info.value.code == "cases.agent_scope"


def test_special_procedure_and_suspension_pause_the_clock(world: dict[str, Any]) -> None:
    case = submitted(world)
    services.accept(world["clerk"], case)
    with pytest.raises(ValidationError):
        services.start_special_procedure(
            world["reviewer"], case, kind="99", reason="x", expected_end=dt.date.today()
        )
    services.start_special_procedure(
        world["reviewer"],
        case,
        kind="24",
        reason="需实地核查经营场所",
        expected_end=dt.date.today() + dt.timedelta(days=10),
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.SPECIAL
    assert case.paused_since is not None
    with pytest.raises(Conflict):
        services.act(world["reviewer"], open_task(case, TaskKind.REVIEW), "pass")
    case = services.end_special_procedure(world["reviewer"], case, result="核查通过")
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.paused_since is None
    services.suspend(world["reviewer"], case, "等待法院裁定")
    case.refresh_from_db()
    assert case.status == CaseStatus.SUSPENDED
    with pytest.raises(PermissionDenied):
        services.resume(world["planning_reviewer"], case)
    services.resume(world["reviewer"], case)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS


def test_transfer_moves_task_to_other_department(world: dict[str, Any]) -> None:
    case = submitted(world)
    services.accept(world["clerk"], case)
    review = open_task(case, TaskKind.REVIEW)
    with pytest.raises(ValidationError):
        services.transfer(world["reviewer"], review, world["market"], "同部门")
    services.transfer(world["reviewer"], review, world["planning"], "属规划部门职责")
    review.refresh_from_db()
    assert review.department == world["planning"]
    with pytest.raises(PermissionDenied):
        services.act(world["reviewer"], review, "pass")
    services.act(world["planning_reviewer"], review, "pass")


def test_query_password_lookup(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], ITEM_PROMISED)
    for index in range(3):
        services.add_material_upload(
            world["person"], case, checklist_index=index, name="a.pdf", data=PDF + bytes([index])
        )
    result = services.submit(world["person"], case)
    found = services.check_query_password(result.case.number or "", result.query_password)
    assert found.pk == case.pk
    wrong = "000000" if result.query_password != "000000" else "111111"
    with pytest.raises(NotFound) as info:
        services.check_query_password(result.case.number or "", wrong)
    assert info.value.code == "cases.query_failed"
    with pytest.raises(NotFound) as other:
        services.check_query_password("51160020261127999999", result.query_password)
    assert other.value.code == info.value.code
    assert result.query_password not in str(Case.objects.filter(pk=case.pk).values().get())


def test_licence_reference_needs_a_valid_identifier(world: dict[str, Any]) -> None:
    from zwfw.licences.identifiers import build_identifier

    case = services.create_draft(world["person"], ITEM_PROMISED)
    good = build_identifier("11511600MB0123457B001", "11511600MB0123457B", "2026A1", 1)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError) as info:
        services.reference_licence(world["person"], case, checklist_index=1, licence_identifier=bad)
    assert info.value.code == "licences.identifier_check"
    with pytest.raises(ValidationError) as refused:
        services.reference_licence(
            world["person"], case, checklist_index=0, licence_identifier=good
        )
    assert refused.value.code == "cases.licence_not_accepted"
    assert not case.materials.exists()
    material = services.reference_licence(
        world["person"], case, checklist_index=1, licence_identifier=good
    )
    assert material.licence_identifier == good
    assert material.source == "licence"
