"""Case API (``/api/v1/cases``, ``/api/v1/tasks``, ``/api/v1/materials``): thin over services.

Applicants act through their session; when the session is "acting for a company" (see
``identity.switch_identity``) the company's cases are meant. Staff act on tasks of their
departments. Every creating call accepts an ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import django_auth
from pydantic import Field

from zwfw.api.requesting import acting_uscc as _acting
from zwfw.api.requesting import current_user as _me
from zwfw.cases import selectors, services
from zwfw.cases.models import Case, CaseEvent, CaseMaterial, CaseTask, Notice, TaskKind
from zwfw.core import idempotency
from zwfw.core.errors import NotFound, ValidationError
from zwfw.identity import throttle
from zwfw.identity.models import User

router = Router(tags=["cases"])
PROGRESS_FAILURES = throttle.Rule(
    "case-progress:ip", 10, dt.timedelta(minutes=15), dt.timedelta(minutes=15)
)
Reason = Field("", max_length=2000)
MAX_ID = 2**63 - 1  # BigAutoField


# --- schemas --------------------------------------------------------------------------------------


class DraftIn(Schema):
    item_code: str = Field(..., max_length=64, description="实施编码")
    form: dict[str, Any] = Field(default_factory=dict, description="申请表字段值")
    channel: str = Field("2", max_length=1, description="申报来源：1 窗口 2 网上")
    applicant_user_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="窗口代办：被服务人的账号（仅窗口人员）"
    )


class FormIn(Schema):
    form: dict[str, Any]


class ReuseIn(Schema):
    checklist_index: int | None = Field(None, ge=0, le=1000)
    stored_file_id: int = Field(..., ge=1, le=MAX_ID)


class LicenceRefIn(Schema):
    checklist_index: int = Field(..., ge=0, le=1000)
    licence_identifier: str = Field(..., max_length=128)


class ReasonIn(Schema):
    reason: str = Reason


class OpinionIn(Schema):
    opinion: str = Reason


class CorrectionItemIn(Schema):
    checklist_index: int | None = Field(None, ge=0, le=1000)
    material: str = Field("", max_length=200)
    problem: str = Field(..., max_length=2000)


class CorrectionIn(Schema):
    items: list[CorrectionItemIn] = Field(..., max_length=100)
    note: str = Reason


class SpecialIn(Schema):
    kind: str = Field(..., max_length=2)
    reason: str = Reason
    expected_end: dt.date


class SpecialEndIn(Schema):
    result: str = Reason
    opinion: str = Reason


class DeliveryIn(Schema):
    method: str = Field(..., max_length=12)
    address: str = Field("", max_length=500)


class ChecklistTick(Schema):
    index: int = Field(..., ge=0, le=1000)
    ok: bool = True
    note: str = Field("", max_length=2000)


class ActIn(Schema):
    action: str = Field(..., max_length=16, description="pass / return / approve / reject …")
    opinion: str = Reason
    reason: str = Reason
    checklist: list[ChecklistTick] | None = Field(None, max_length=100)
    send_back_to: int | None = Field(
        None, ge=1, le=MAX_ID, description="退回到的任务 id（默认上一环节）"
    )


class TransferIn(Schema):
    department_id: int = Field(..., ge=1, le=MAX_ID)
    reason: str = Reason


class ProgressIn(Schema):
    number: str = Field(..., max_length=32)
    password: str = Field(..., max_length=16)


class MaterialOut(Schema):
    id: int
    checklist_index: int | None
    name: str
    source: str
    status: str
    note: str
    file_id: int | None
    media_type: str | None
    size: int | None
    licence_identifier: str


class ClockOut(Schema):
    limit: int
    unit: str
    used: int
    remaining: int
    paused: bool
    due_date: str | None
    status: str


class TaskOut(Schema):
    id: int
    case_id: int
    case_number: str | None
    item_name: str
    name: str
    kind: str
    department_id: int
    department: str
    role: str
    assignee_id: int | None
    status: str
    created_at: dt.datetime
    due_date: dt.date | None
    completed_at: dt.datetime | None
    outcome: str
    opinion: str
    allowed_actions: list[str]


class DepartmentDays(Schema):
    department_id: int
    department: str
    holding: list[str] = Field(description="open steps the department holds now")
    working_days_used: int = Field(description="working days its steps have taken so far")


class CaseOut(Schema):
    id: int
    number: str | None
    status: str
    status_label: str
    item_code: str
    item_name: str
    item_version: int
    case_type: str
    department: str
    applicant_kind: str
    applicant_name: str
    company_uscc: str | None
    channel: str
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None
    decision: str
    decision_reason: str
    refusal_reason: str
    result_description: str
    delivery_method: str
    clock: ClockOut
    form: dict[str, Any] | None = None
    form_definition: list[dict[str, Any]] | None = None
    materials: list[MaterialOut] | None = None
    missing_materials: list[dict[str, Any]] | None = None
    open_tasks: list[TaskOut] | None = None
    review_points: list[str] | None = None
    departments: list[DepartmentDays] | None = Field(
        None, description="per department: steps held now and working days used (staff only)"
    )


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None


class SubmitOut(Schema):
    case: CaseOut
    query_password: str = Field(description="查询密码：只显示这一次")


class EventOut(Schema):
    id: int
    kind: str
    step_name: str
    action: str
    actor_name: str
    department: str | None
    opinion: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    data: dict[str, Any]


class NoticeOut(Schema):
    id: int
    kind: str
    number: str
    title: str
    created_at: dt.datetime
    has_file: bool


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class InboxCounts(Schema):
    mine: int
    queue: int
    by_kind: dict[str, int]
    overdue: int


class ProgressStep(Schema):
    step_name: str
    action: str
    department: str | None
    at: dt.datetime


class ProgressOut(Schema):
    number: str
    item_name: str
    status: str
    status_label: str
    applicant: str
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    closed_at: dt.datetime | None
    due_date: str | None
    steps: list[ProgressStep]


class LibraryFile(Schema):
    id: int
    original_name: str
    material_name: str
    media_type: str
    size: int
    created_at: dt.datetime


class LibraryPage(Schema):
    items: list[LibraryFile]
    next_cursor: str | None


class PageFilter(Schema):
    status: str | None = Field(None, max_length=16)
    cursor: str | None = Field(None, max_length=200)
    limit: int = 20


class StaffCaseFilter(PageFilter):
    item_code: str | None = Field(None, max_length=64)


class InboxFilter(Schema):
    scope: str = Field("all", max_length=8, description="all / mine / queue")
    kind: str | None = Field(None, max_length=8)
    department_id: int | None = Field(None, ge=1, le=MAX_ID)
    item_code: str | None = Field(None, max_length=64)
    cursor: str | None = Field(None, max_length=200)
    limit: int = 20


# --- serialisation --------------------------------------------------------------------------------


def task_out(task: CaseTask) -> dict[str, Any]:
    case = task.case
    return {
        "id": task.pk,
        "case_id": task.case_id,
        "case_number": case.number,
        "item_name": case.item_name,
        "name": task.name,
        "kind": task.kind,
        "department_id": task.department_id,
        "department": task.department.name,
        "role": task.role,
        "assignee_id": task.assignee_id,
        "status": task.status,
        "created_at": task.created_at,
        "due_date": task.due_date,
        "completed_at": task.completed_at,
        "outcome": task.outcome,
        "opinion": task.opinion,
        "allowed_actions": list(services.ACTIONS_BY_KIND.get(TaskKind(task.kind), ()))
        if task.status == CaseTask.Status.OPEN
        else [],
    }


def _material_out(material: CaseMaterial) -> dict[str, Any]:
    stored = material.file
    return {
        "id": material.pk,
        "checklist_index": material.checklist_index,
        "name": material.name,
        "source": material.source,
        "status": material.status,
        "note": material.note,
        "file_id": stored.pk if stored else None,
        "media_type": stored.media_type if stored else None,
        "size": stored.size if stored else None,
        "licence_identifier": material.licence_identifier,
    }


def case_out(case: Case, *, detail: bool = False, staff: bool = False) -> dict[str, Any]:
    from zwfw.cases.models import CaseStatus

    body: dict[str, Any] = {
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "status_label": CaseStatus(case.status).label,
        "item_code": case.implementation_code,
        "item_name": case.item_name,
        "item_version": case.item_version.number if detail else 0,
        "case_type": case.case_type,
        "department": case.department.name,
        "applicant_kind": case.applicant_kind,
        "applicant_name": case.applicant_name
        if (detail or case.company_id)
        else services.masked_applicant(case)["name"],
        "company_uscc": case.company.uscc if case.company_id and case.company else None,
        "channel": case.channel,
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "decided_at": case.decided_at,
        "closed_at": case.closed_at,
        "decision": case.decision,
        "decision_reason": case.decision_reason,
        "refusal_reason": case.refusal_reason,
        "result_description": case.result_description,
        "delivery_method": case.delivery_method,
        "clock": selectors.clock_state(case),
    }
    if detail:
        content = case.item_version.content
        body["form"] = services.form_values(case)
        body["form_definition"] = services.form_definition(content)
        materials = case.materials.exclude(status=CaseMaterial.Status.SUPERSEDED)
        body["materials"] = [_material_out(m) for m in materials.select_related("file")]
        body["missing_materials"] = services.missing_materials(case)
        tasks = case.tasks.filter(status=CaseTask.Status.OPEN).select_related("department")
        body["open_tasks"] = [task_out(t) for t in tasks]
        if staff:
            body["review_points"] = list(content.get("review_points") or [])
            body["departments"] = selectors.department_days(case)
    return body


def _event_out(event: CaseEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "step_name": event.step_name,
        "action": event.action,
        "actor_name": event.actor_name,
        "department": event.department.name if event.department else None,
        "opinion": event.opinion,
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "data": event.data,
    }


def _is_staff_view(user: User, case: Case, request: HttpRequest) -> bool:
    return not services.is_applicant_side(user, case, _acting(request))


# --- applicant side -------------------------------------------------------------------------------


@router.post(
    "/cases",
    response={201: CaseOut},
    auth=django_auth,
    summary="Start an application (draft) for an item — 我要办",
)
def create_case(request: HttpRequest, body: DraftIn) -> Status:
    user = _me(request)

    def create() -> tuple[int, Any]:
        applicant: Any = user
        clerk = None
        if body.applicant_user_id is not None:
            applicant = User.objects.filter(pk=body.applicant_user_id, kind="person").first()
            if applicant is None:
                raise NotFound("identity.user_unknown", "被服务人不存在。", "Unknown person.")
            clerk = user
        case = services.create_draft(
            applicant,
            body.item_code,
            acting_uscc=_acting(request) if clerk is None else None,
            channel=body.channel,
            clerk=clerk,
            form_data=body.form,
        )
        return 201, case_out(case, detail=True)

    status, payload = idempotency.run(request, body.dict(), create)
    return Status(status, payload)


@router.get("/cases", response=CasePage, auth=django_auth, summary="My cases — 我的办件")
def list_my_cases(request: HttpRequest, filters: Query[PageFilter]) -> dict[str, Any]:
    user = _me(request)
    page = selectors.my_cases(
        user, _acting(request), status=filters.status, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [case_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/cases/progress",
    response=ProgressOut,
    summary="Anonymous progress lookup by 办件编号 and query password — 我要查",
)
def progress(request: HttpRequest, body: ProgressIn) -> dict[str, Any]:
    from zwfw.cases.models import CaseStatus
    from zwfw.identity import throttle

    key = throttle.key_of(request.META.get("REMOTE_ADDR", ""))
    throttle.refuse(
        PROGRESS_FAILURES,
        key,
        "查询失败次数过多，请{minutes}分钟后再试。",
        "Too many failed lookups; try again later.",
        "cases.progress_locked",
    )
    try:
        case = services.check_query_password(body.number, body.password)
    except NotFound:
        # Guessing six-digit passwords must stay slow: ten failures lock the address.
        throttle.hit(PROGRESS_FAILURES, key)
        raise
    events = case.events.select_related("department").order_by("id")
    return {
        "number": case.number,
        "item_name": case.item_name,
        "status": case.status,
        "status_label": CaseStatus(case.status).label,
        "applicant": services.masked_applicant(case)["name"],
        "submitted_at": case.submitted_at,
        "accepted_at": case.accepted_at,
        "closed_at": case.closed_at,
        "due_date": case.due_date.isoformat() if case.due_date else None,
        "steps": [
            {
                "step_name": e.step_name,
                "action": e.action,
                "department": e.department.name if e.department else None,
                "at": e.ended_at or e.started_at,
            }
            for e in events
        ],
    }


@router.get("/cases/{ref}", response=CaseOut, auth=django_auth, summary="One case (id or 办件编号)")
def get_case(request: HttpRequest, ref: str) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_anyone(user, ref, _acting(request), purpose="view")
    return case_out(case, detail=True, staff=_is_staff_view(user, case, request))


@router.patch("/cases/{ref}/form", response=CaseOut, auth=django_auth, summary="Save form values")
def update_form(request: HttpRequest, ref: str, body: FormIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_applicant(user, ref, _acting(request))
    case = services.update_draft(user, case, body.form, acting_uscc=_acting(request))
    return case_out(case, detail=True)


@router.post(
    "/cases/{ref}/materials",
    response={201: MaterialOut},
    auth=django_auth,
    summary="Upload a material file (multipart: file, checklist_index)",
)
def upload_material(
    request: HttpRequest,
    ref: str,
    file: File[UploadedFile],
    checklist_index: Form[int | None] = None,
    copy_level: Form[str] = "",
) -> Status:
    user = _me(request)
    case = selectors.case_for_anyone(user, ref, _acting(request), purpose="upload")
    if file.size is not None and file.size > 64 * 1024 * 1024:
        raise ValidationError("cases.file_too_large", "文件过大。", "File too large.", field="file")
    material = services.add_material_upload(
        user,
        case,
        checklist_index=checklist_index,
        name=file.name or "",
        data=file.read(),
        acting_uscc=_acting(request),
        copy_level=copy_level[:1],
    )
    return Status(201, _material_out(material))


@router.post(
    "/cases/{ref}/materials/reuse",
    response={201: MaterialOut},
    auth=django_auth,
    summary="Reuse a file from my material library",
)
def reuse_material(request: HttpRequest, ref: str, body: ReuseIn) -> Status:
    user = _me(request)
    case = selectors.case_for_applicant(user, ref, _acting(request))
    material = services.reuse_material(
        user,
        case,
        checklist_index=body.checklist_index,
        stored_file_id=body.stored_file_id,
        acting_uscc=_acting(request),
    )
    return Status(201, _material_out(material))


@router.post(
    "/cases/{ref}/materials/licence",
    response={201: MaterialOut},
    auth=django_auth,
    summary="Reference an electronic licence instead of uploading",
)
def reference_licence(request: HttpRequest, ref: str, body: LicenceRefIn) -> Status:
    user = _me(request)
    case = selectors.case_for_applicant(user, ref, _acting(request))
    material = services.reference_licence(
        user,
        case,
        checklist_index=body.checklist_index,
        licence_identifier=body.licence_identifier,
        acting_uscc=_acting(request),
    )
    return Status(201, _material_out(material))


@router.get(
    "/cases/{ref}/materials/{material_id}/file",
    auth=django_auth,
    summary="Download a material file",
)
def download_material(request: HttpRequest, ref: str, material_id: int) -> HttpResponse:
    from zwfw.cases import files

    user = _me(request)
    case = selectors.case_for_anyone(user, ref, _acting(request), purpose="material")
    material = case.materials.select_related("file").filter(pk=material_id).first()
    if material is None or material.file is None:
        raise NotFound("cases.material_unknown", "材料不存在。", "Unknown material.")
    data = files.read_file(material.file)
    response = HttpResponse(data, content_type=material.file.media_type)
    response["Content-Disposition"] = "attachment"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post(
    "/cases/{ref}/submit",
    response={200: SubmitOut},
    auth=django_auth,
    summary="Submit the application (returns the query password once)",
)
def submit_case(request: HttpRequest, ref: str) -> Status:
    user = _me(request)

    def create() -> tuple[int, Any]:
        case = selectors.case_for_anyone(user, ref, _acting(request), purpose="submit")
        result = services.submit(user, case, acting_uscc=_acting(request))
        return 200, {
            "case": case_out(result.case, detail=True),
            "query_password": result.query_password,
        }

    status, payload = idempotency.run(request, {"ref": ref}, create, redact=_without_password)
    return Status(status, payload)


def _without_password(body: dict[str, Any]) -> dict[str, Any]:
    """The submit answer as kept for replays: the query password is shown once only (it was
    also sent to the applicant's messages); a replay says so instead."""
    return {**body, "query_password": "（已显示，请查看站内消息或短信）"}


@router.post("/cases/{ref}/withdraw", response=CaseOut, auth=django_auth, summary="撤回")
def withdraw_case(request: HttpRequest, ref: str, body: ReasonIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_applicant(user, ref, _acting(request))
    return case_out(services.withdraw(user, case, body.reason, acting_uscc=_acting(request)))


@router.post(
    "/cases/{ref}/resubmit", response=CaseOut, auth=django_auth, summary="Submit corrections"
)
def resubmit_case(request: HttpRequest, ref: str) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_applicant(user, ref, _acting(request))
    return case_out(services.resubmit(user, case, acting_uscc=_acting(request)), detail=True)


@router.post("/cases/{ref}/delivery", response=CaseOut, auth=django_auth, summary="送达方式")
def choose_delivery(request: HttpRequest, ref: str, body: DeliveryIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_applicant(user, ref, _acting(request))
    return case_out(
        services.choose_delivery(
            user, case, body.method, body.address, acting_uscc=_acting(request)
        )
    )


@router.get(
    "/cases/{ref}/timeline", response=list[EventOut], auth=django_auth, summary="Case history"
)
def case_timeline(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    user = _me(request)
    case = selectors.case_for_anyone(user, ref, _acting(request), purpose="timeline")
    return [_event_out(e) for e in selectors.timeline(case)]


@router.get("/cases/{ref}/notices", response=list[NoticeOut], auth=django_auth, summary="电子文书")
def case_notices(request: HttpRequest, ref: str) -> list[dict[str, Any]]:
    user = _me(request)
    case = selectors.case_for_anyone(user, ref, _acting(request), purpose="notices")
    return [
        {
            "id": n.pk,
            "kind": n.kind,
            "number": n.number,
            "title": n.title,
            "created_at": n.created_at,
            "has_file": n.file_id is not None,
        }
        for n in case.notices.order_by("id")
    ]


@router.get("/cases/{ref}/notices/{notice_id}/pdf", auth=django_auth, summary="Notice PDF")
def notice_pdf(request: HttpRequest, ref: str, notice_id: int) -> HttpResponse:
    from zwfw.cases import notices

    user = _me(request)
    case = selectors.case_for_anyone(user, ref, _acting(request), purpose="notice")
    notice = case.notices.filter(pk=notice_id).first()
    if notice is None:
        raise NotFound("cases.notice_unknown", "文书不存在。", "Unknown notice.")
    data = notices.notice_pdf_bytes(notice)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{notice.number}.pdf"'
    return response


@router.get(
    "/materials/library",
    response=LibraryPage,
    auth=django_auth,
    summary="My material library (files I can reuse)",
)
def material_library(request: HttpRequest, filters: Query[PageFilter]) -> dict[str, Any]:
    from zwfw.cases import files
    from zwfw.identity.models import Company

    user = _me(request)
    uscc = _acting(request)
    company = Company.objects.filter(uscc=uscc).first() if uscc else None
    page = files.library_for(user, company, cursor=filters.cursor, limit=filters.limit)
    return {
        "items": [
            {
                "id": f.pk,
                "original_name": f.original_name,
                "material_name": f.material_name,
                "media_type": f.media_type,
                "size": f.size,
                "created_at": f.created_at,
            }
            for f in page.items
        ],
        "next_cursor": page.next_cursor,
    }


# --- staff side -----------------------------------------------------------------------------------


@router.get(
    "/workbench/cases", response=CasePage, auth=django_auth, summary="Cases of my departments"
)
def staff_cases(request: HttpRequest, filters: Query[StaffCaseFilter]) -> dict[str, Any]:
    user = _me(request)
    page = selectors.department_cases(
        user,
        status=filters.status,
        item_code=filters.item_code,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [case_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post("/cases/{ref}/accept", response=CaseOut, auth=django_auth, summary="受理")
def accept_case(request: HttpRequest, ref: str, body: OpinionIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_staff(user, ref, purpose="accept")
    return case_out(services.accept(user, case, opinion=body.opinion), detail=True, staff=True)


@router.post("/cases/{ref}/refuse", response=CaseOut, auth=django_auth, summary="不予受理")
def refuse_case(request: HttpRequest, ref: str, body: ReasonIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_staff(user, ref, purpose="refuse")
    return case_out(services.refuse(user, case, body.reason), detail=True, staff=True)


@router.post(
    "/cases/{ref}/correction",
    response={201: CaseOut},
    auth=django_auth,
    summary="补正告知 (一次性告知: every missing or wrong material at once)",
)
def request_correction(request: HttpRequest, ref: str, body: CorrectionIn) -> Status:
    user = _me(request)
    case = selectors.case_for_staff(user, ref, purpose="correction")
    services.request_correction(user, case, [i.dict() for i in body.items], body.note)
    case.refresh_from_db()
    return Status(201, case_out(case, detail=True, staff=True))


@router.post("/cases/{ref}/special", response=CaseOut, auth=django_auth, summary="特别程序")
def start_special(request: HttpRequest, ref: str, body: SpecialIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_staff(user, ref, purpose="special")
    services.start_special_procedure(
        user, case, kind=body.kind, reason=body.reason, expected_end=body.expected_end
    )
    case.refresh_from_db()
    return case_out(case, detail=True, staff=True)


@router.post("/cases/{ref}/special/end", response=CaseOut, auth=django_auth, summary="End 特别程序")
def end_special(request: HttpRequest, ref: str, body: SpecialEndIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_staff(user, ref, purpose="special")
    case = services.end_special_procedure(user, case, result=body.result, opinion=body.opinion)
    return case_out(case, detail=True, staff=True)


@router.post("/cases/{ref}/suspend", response=CaseOut, auth=django_auth, summary="挂起")
def suspend_case(request: HttpRequest, ref: str, body: ReasonIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_staff(user, ref, purpose="suspend")
    return case_out(services.suspend(user, case, body.reason), detail=True, staff=True)


@router.post("/cases/{ref}/resume", response=CaseOut, auth=django_auth, summary="恢复")
def resume_case(request: HttpRequest, ref: str, body: OpinionIn) -> dict[str, Any]:
    user = _me(request)
    case = selectors.case_for_staff(user, ref, purpose="resume")
    return case_out(services.resume(user, case, body.opinion), detail=True, staff=True)


@router.get("/tasks", response=TaskPage, auth=django_auth, summary="My inbox (待办)")
def inbox(request: HttpRequest, filters: Query[InboxFilter]) -> dict[str, Any]:
    user = _me(request)
    page = selectors.inbox(
        user,
        scope=filters.scope,
        kind=filters.kind,
        department_id=filters.department_id,
        item_code=filters.item_code,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [task_out(t) for t in page.items], "next_cursor": page.next_cursor}


@router.get("/tasks/counts", response=InboxCounts, auth=django_auth, summary="Inbox counts")
def inbox_counts(request: HttpRequest) -> dict[str, Any]:
    return selectors.inbox_counts(_me(request))


def _task(user: User, task_id: int) -> CaseTask:
    task = services.get_task(task_id)
    restriction = selectors.staff_case_filter(user)
    if restriction is not None and not Case.objects.filter(restriction, pk=task.case_id).exists():
        raise NotFound("cases.task_unknown", "待办任务不存在。", "Unknown task.")
    return task


@router.post("/tasks/{task_id}/claim", response=TaskOut, auth=django_auth, summary="签收")
def claim_task(request: HttpRequest, task_id: int) -> dict[str, Any]:
    user = _me(request)
    return task_out(services.claim(user, _task(user, task_id)))


@router.post("/tasks/{task_id}/release", response=TaskOut, auth=django_auth, summary="退签")
def release_task(request: HttpRequest, task_id: int) -> dict[str, Any]:
    user = _me(request)
    return task_out(services.release(user, _task(user, task_id)))


@router.post(
    "/tasks/{task_id}/act",
    response=CaseOut,
    auth=django_auth,
    summary="Act on a task: pass / return / approve / reject … with an opinion",
)
def act_on_task(request: HttpRequest, task_id: int, body: ActIn) -> dict[str, Any]:
    user = _me(request)
    task = _task(user, task_id)
    case = services.act(
        user,
        task,
        body.action,
        opinion=body.opinion,
        reason=body.reason,
        checklist=[c.dict() for c in body.checklist] if body.checklist is not None else None,
        send_back_to=body.send_back_to,
    )
    return case_out(case, detail=True, staff=True)


@router.post("/tasks/{task_id}/transfer", response=TaskOut, auth=django_auth, summary="转办")
def transfer_task(request: HttpRequest, task_id: int, body: TransferIn) -> dict[str, Any]:
    from zwfw.organisations.models import Department

    user = _me(request)
    task = _task(user, task_id)
    department = Department.objects.filter(pk=body.department_id, is_active=True).first()
    if department is None:
        raise NotFound("organisations.department_unknown", "部门不存在。", "Unknown department.")
    return task_out(services.transfer(user, task, department, body.reason))


__all__ = ["Notice", "router"]
