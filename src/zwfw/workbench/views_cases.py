"""Case handling pages: the inbox (待办), case search (办件查询) and the case detail with its
actions. Every action is a plain form POST (CSRF) that calls a ``zwfw.cases.services``
function; a refused action re-renders the page with the service's message and its status,
and has changed nothing (the services check before they write).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST

from zwfw.cases import clock
from zwfw.cases import selectors as case_selectors
from zwfw.cases import services as case_services
from zwfw.cases.models import (
    Case,
    CaseMaterial,
    CaseStatus,
    CaseTask,
    TaskKind,
)
from zwfw.core import audit, codes
from zwfw.core.errors import NotFound, ValidationError, ZwfwError
from zwfw.core.masking import mask_id_number, mask_name, mask_phone
from zwfw.organisations.models import Department, Role
from zwfw.workbench import selectors
from zwfw.workbench.access import CASE_ROLES, Staff, staff_required

PAGE_SIZE = 20
TEXT_MAX = 2000

ACTION_LABELS = {
    "accept": "受理",
    "refuse": "不予受理",
    "pass": "审查通过",
    "return": "退回",
    "approve": "准予许可",
    "reject": "不予许可",
}
#: Actions that need a reason (the opinion box is used as the reason).
NEEDS_REASON = {"refuse", "reject", "return"}
EXTRA_CORRECTION_ROWS = 3
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"}


# --- small helpers ------------------------------------------------------------------------------


def _text(request: HttpRequest, name: str, limit: int = TEXT_MAX) -> str:
    return str(request.POST.get(name, "")).strip()[:limit]


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and len(text) < 13:
        return int(text)
    return None


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            "workbench.date", "日期格式应为 YYYY-MM-DD。", "Bad date.", field=field
        ) from None


def _staff(request: HttpRequest) -> Staff:
    return request.staff  # type: ignore[attr-defined]


def _error_status(error: ZwfwError) -> int:
    return int(error.http_status)


def _case(request: HttpRequest, ref: str, purpose: str) -> Case:
    """The case if the staff member may see it (the read is audited); 404 otherwise."""
    try:
        return case_selectors.case_for_staff(request.user, ref, purpose=purpose)
    except NotFound:
        raise Http404("办件不存在。") from None


def _detail_url(case: Case) -> str:
    return reverse("workbench:case", args=[case.number or case.pk])


def _may_act(staff: Staff, task: CaseTask) -> bool:
    if staff.superuser:
        return True
    return any(d == task.department_id and r == task.role for d, _, r in staff.departments)


# --- inbox ----------------------------------------------------------------------------------------


@require_GET
@staff_required(CASE_ROLES)
def inbox(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    query = request.GET
    filters = selectors.InboxFilter(
        scope=query.get("scope", "all"),
        kind=query.get("kind", ""),
        department_id=_int(query.get("department")),
        role=query.get("role", ""),
        item_code=query.get("item", "").strip()[:64],
        due=query.get("due", ""),
        cursor=query.get("cursor", "")[:200],
    )
    context: dict[str, Any] = {
        "filters": filters,
        "kinds": TaskKind.choices,
        "roles": [(r, Role(r).label) for r in sorted(staff.roles) if r in Role.values],
        "departments": sorted({(d, name) for d, name, _ in staff.departments}),
        "active": "inbox",
    }
    status = 200
    try:
        page = selectors.inbox_page(request.user, filters, PAGE_SIZE)
        context["rows"] = page.items
        context["next_cursor"] = page.next_cursor
    except ZwfwError as error:
        context["rows"] = []
        context["error"] = error.message
        status = _error_status(error)
    counts = selectors.inbox_counts(request.user)
    context["counts"] = counts
    context["kind_counts"] = [
        (value, label, counts["by_kind"].get(value, 0)) for value, label in TaskKind.choices
    ]
    params = query.copy()
    params.pop("cursor", None)
    context["query_without_cursor"] = params.urlencode()
    template = "workbench/_inbox_rows.html" if request.headers.get("HX-Request") else None
    return render(request, template or "workbench/inbox.html", context, status=status)


@require_POST
@staff_required(CASE_ROLES)
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_step(request, task_id, case_services.claim, "已签收。")


@require_POST
@staff_required(CASE_ROLES)
def task_release(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_step(request, task_id, case_services.release, "已退签，任务回到部门待办。")


def _visible_task(request: HttpRequest, task_id: int) -> CaseTask:
    task = CaseTask.objects.select_related("case", "department").filter(pk=task_id).first()
    if task is None:
        raise Http404("待办任务不存在。")
    restriction = case_selectors.staff_case_filter(request.user)
    if restriction is not None and not Case.objects.filter(restriction, pk=task.case_id).exists():
        raise Http404("待办任务不存在。")
    return task


def _back(request: HttpRequest, default: str) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _task_step(request: HttpRequest, task_id: int, step: Any, done: str) -> HttpResponse:
    task = _visible_task(request, task_id)
    try:
        step(request.user, task)
    except ZwfwError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(_back(request, reverse("workbench:inbox")))
    messages.success(request, done)
    return HttpResponseRedirect(_back(request, reverse("workbench:inbox")))


# --- case search (办件查询) -------------------------------------------------------------------


@require_GET
@staff_required(CASE_ROLES)
def case_search(request: HttpRequest) -> HttpResponse:
    query = request.GET
    number = query.get("number", "").strip()[:32]
    if number:
        return HttpResponseRedirect(reverse("workbench:case", args=[number]))
    status_filter = query.get("status", "")
    context: dict[str, Any] = {
        "statuses": [c for c in CaseStatus.choices if c[0] != CaseStatus.DRAFT],
        "status": status_filter,
        "item": query.get("item", "").strip()[:64],
        "active": "cases",
    }
    code = 200
    try:
        page = case_selectors.department_cases(
            request.user,
            status=status_filter or None,
            item_code=context["item"] or None,
            cursor=query.get("cursor") or None,
            limit=PAGE_SIZE,
        )
        context["rows"] = page.items
        context["next_cursor"] = page.next_cursor
    except ZwfwError as error:
        context["rows"] = []
        context["error"] = error.message
        code = _error_status(error)
    params = query.copy()
    params.pop("cursor", None)
    context["query_without_cursor"] = params.urlencode()
    return render(request, "workbench/cases.html", context, status=code)


# --- case detail ---------------------------------------------------------------------------------


def _applicant(case: Case, reveal: bool) -> list[tuple[str, str]]:
    company = case.company_id is not None
    name = case.applicant_name if (reveal or company) else mask_name(case.applicant_name)
    rows = [
        ("申请者", name),
        (
            "证件号码",
            # A company's USCC is public (营业执照); a person's ID number is masked.
            case.applicant_id_number
            if (reveal or company)
            else mask_id_number(case.applicant_id_number),
        ),
        ("联系人", case.contact_name if reveal else mask_name(case.contact_name)),
        ("联系电话", case.contact_phone if reveal else mask_phone(case.contact_phone)),
    ]
    if case.legal_representative:
        rows.append(("法定代表人", case.legal_representative))
    if case.address:
        rows.append(("通讯地址", case.address if reveal else "（已隐藏）"))
    return rows


def _form_rows(case: Case, reveal: bool) -> list[tuple[str, str]]:
    definition = case_services.form_definition(case.item_version.content)
    values = case_services.form_values(case)
    rows = []
    for field in definition:
        value = values.get(field.get("name", ""), "")
        if isinstance(value, bool):
            text = "是" if value else "否"
        else:
            text = str(value if value is not None else "")
        if not reveal and text:
            text = _masked_form_value(field, text, company=case.company_id is not None)
        rows.append((str(field.get("label", field.get("name", ""))), text))
    return rows


#: Fields of the default application form that hold a person's data (see
#: ``zwfw.cases.services.form_definition``); other fields are masked by their type.
PERSONAL_FORM_FIELDS: dict[str, Any] = {
    "contact_name": mask_name,
    "address": lambda _value: "（已隐藏）",
}


def _masked_form_value(field: dict[str, Any], text: str, *, company: bool) -> str:
    kind = field.get("type")
    name = field.get("name", "")
    if kind == "phone":
        return mask_phone(text)
    if kind == "idcard":
        return mask_id_number(text)
    if name in PERSONAL_FORM_FIELDS:
        return str(PERSONAL_FORM_FIELDS[name](text))
    if name == "applicant_name" and not company:
        return mask_name(text)
    return text


def _materials(case: Case) -> tuple[list[dict[str, Any]], list[CaseMaterial]]:
    """The checklist with what was handed in for each entry, and the extra materials."""
    checklist = case.item_version.content.get("materials", []) or []
    current = list(
        case.materials.exclude(status=CaseMaterial.Status.SUPERSEDED)
        .select_related("file")
        .order_by("checklist_index", "id")
    )
    by_index: dict[int, list[CaseMaterial]] = {}
    extra: list[CaseMaterial] = []
    for material in current:
        if material.checklist_index is None or material.checklist_index >= len(checklist):
            extra.append(material)
        else:
            by_index.setdefault(material.checklist_index, []).append(material)
    rows = [
        {
            "index": index,
            "name": entry.get("name", ""),
            "required": entry.get("required", True),
            "standard": entry.get("acceptance_standard", ""),
            "given": by_index.get(index, []),
        }
        for index, entry in enumerate(checklist)
    ]
    return rows, extra


def _licences(request: HttpRequest, case: Case, materials: list[CaseMaterial]) -> dict[str, Any]:
    """The licences the materials name, as the licence library lets this officer see them
    (through the applicant's 用证授权; the read is audited)."""
    from zwfw.licences.use import licences_for_case

    identifiers = [m.licence_identifier for m in materials if m.licence_identifier]
    return licences_for_case(request.user, case, identifiers)


def _case_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    staff = _staff(request)
    reveal = bool(extra.pop("reveal", False))
    content = case.item_version.content
    checklist, extra_materials = _materials(case)
    all_given = [m for row in checklist for m in row["given"]] + extra_materials
    licences = _licences(request, case, all_given)
    for material in all_given:
        material.licence = licences.get(material.licence_identifier)
    tasks = list(case.tasks.select_related("department", "assignee").order_by("id"))
    open_tasks = [t for t in tasks if t.status == CaseTask.Status.OPEN]
    for task in open_tasks:
        task.may_act = _may_act(staff, task)  # type: ignore[attr-defined]
        task.mine = task.assignee_id == request.user.pk  # type: ignore[attr-defined]
        task.role_label = Role(task.role).label if task.role in Role.values else task.role  # type: ignore[attr-defined]
        task.actions = [  # type: ignore[attr-defined]
            (a, ACTION_LABELS[a])
            for a in case_services.ACTIONS_BY_KIND.get(TaskKind(task.kind), ())
            if a in ACTION_LABELS
        ]
        task.offers_correction = "correction" in case_services.ACTIONS_BY_KIND.get(  # type: ignore[attr-defined]
            TaskKind(task.kind), ()
        )
    preview_id = _int(request.GET.get("preview"))
    preview = next((m for m in all_given if m.pk == preview_id and m.file_id), None)
    notices = list(case.notices.order_by("id"))
    procedures = list(case.special_procedures.order_by("-id"))
    corrections = list(case.corrections.order_by("-id"))
    may_handle = any(getattr(t, "may_act", False) for t in open_tasks)
    context = {
        "case": case,
        "status_label": CaseStatus(case.status).label,
        "applicant": _applicant(case, reveal),
        "form_rows": _form_rows(case, reveal),
        "revealed": reveal,
        "checklist": checklist,
        "extra_materials": extra_materials,
        "preview": preview,
        "preview_inline": preview is not None and preview.file.media_type in INLINE_TYPES,
        "review_points": list(content.get("review_points") or []),
        "open_tasks": open_tasks,
        "done_tasks": [
            t for t in tasks if t.status == CaseTask.Status.DONE and t.kind != TaskKind.ACCEPT
        ],
        "may_handle": may_handle,
        "events": case_selectors.timeline(case),
        "clock": clock.state(case),
        "department_days": case_selectors.department_days(case),
        "notices": notices,
        "procedures": procedures,
        "open_procedure": next((p for p in procedures if p.ended_at is None), None),
        "corrections": corrections,
        "special_kinds": codes.SpecialProcedureKind.choices,
        "transfer_departments": list(
            Department.objects.filter(is_active=True)
            .order_by("name")
            .values_list("id", "name")[:500]
        ),
        "is_open": case.is_open,
        "active": "cases",
    }
    context.update(extra)
    return context


@require_GET
@staff_required(CASE_ROLES)
def case_detail(request: HttpRequest, ref: str) -> HttpResponse:
    case = _case(request, ref, "handle")
    reveal = request.GET.get("reveal") == "1"
    if reveal:
        # Seeing the unmasked personal data is a read of its own, with its own purpose.
        audit.record_read(
            "cases.case",
            case.pk,
            purpose="unmask",
            fields=["applicant_id_number", "contact_phone", "address", "form"],
        )
    return render(
        request, "workbench/case_detail.html", _case_context(request, case, reveal=reveal)
    )


def _refused(request: HttpRequest, case: Case, error: ZwfwError, **extra: Any) -> HttpResponse:
    case.refresh_from_db()
    context = _case_context(request, case, error=error.message, **extra)
    return render(request, "workbench/case_detail.html", context, status=_error_status(error))


def _done(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseRedirect(_detail_url(case))


@require_POST
@staff_required(CASE_ROLES)
def task_act(request: HttpRequest, task_id: int) -> HttpResponse:
    """Act on a task: accept / refuse / pass / return / approve / reject, or claim, release,
    transfer (the button pressed names the action)."""
    task = _visible_task(request, task_id)
    case = task.case
    action = request.POST.get("action", "")
    opinion = _text(request, "opinion")
    try:
        if action == "claim":
            case_services.claim(request.user, task)
            return _done(request, case, "已签收。")
        if action == "release":
            case_services.release(request.user, task)
            return _done(request, case, "已退签。")
        if action == "transfer":
            department = Department.objects.filter(
                pk=_int(request.POST.get("department")) or 0, is_active=True
            ).first()
            if department is None:
                raise ValidationError(
                    "workbench.transfer_department",
                    "请选择转办的目标部门。",
                    "Choose a department.",
                    field="department",
                )
            case_services.transfer(request.user, task, department, _text(request, "reason"))
            return _done(request, case, f"已转办至{department.name}。")
        if action not in ACTION_LABELS:
            raise ValidationError(
                "workbench.action", "请选择要执行的操作。", "Unknown action.", field="action"
            )
        checklist = None
        if task.kind in (TaskKind.REVIEW, TaskKind.DECIDE):
            points = case.item_version.content.get("review_points") or []
            ticked = set(request.POST.getlist("point"))
            checklist = [
                {"index": i, "ok": str(i) in ticked, "note": _text(request, f"point_note_{i}", 500)}
                for i in range(len(points))
            ]
        case = case_services.act(
            request.user,
            task,
            action,
            opinion=opinion,
            reason=opinion if action in NEEDS_REASON else "",
            checklist=checklist,
            send_back_to=_int(request.POST.get("send_back_to")),
        )
    except ZwfwError as error:
        return _refused(request, case, error, opinion=opinion)
    return _done(request, case, f"已{ACTION_LABELS[action]}。")


@require_POST
@staff_required(CASE_ROLES)
def case_act(request: HttpRequest, ref: str) -> HttpResponse:
    """Case-level steps: accept / refuse (a case without an acceptance task), special
    procedures, suspend / resume."""
    case = _case(request, ref, "handle")
    action = request.POST.get("action", "")
    user = request.user
    try:
        if action == "accept":
            case_services.accept(user, case, opinion=_text(request, "opinion"))
            done = "已受理。"
        elif action == "refuse":
            case_services.refuse(user, case, _text(request, "opinion"))
            done = "已作出不予受理决定。"
        elif action == "special_start":
            case_services.start_special_procedure(
                user,
                case,
                kind=_text(request, "kind", 4),
                reason=_text(request, "reason"),
                expected_end=_date(_text(request, "expected_end", 10), "expected_end"),
            )
            done = "特别程序已启动，办理时限暂停计算。"
        elif action == "special_end":
            case_services.end_special_procedure(
                user, case, result=_text(request, "result"), opinion=_text(request, "opinion")
            )
            done = "特别程序已结束，办理时限恢复计算。"
        elif action == "suspend":
            case_services.suspend(user, case, _text(request, "reason"))
            done = "办件已挂起。"
        elif action == "resume":
            case_services.resume(user, case, _text(request, "opinion"))
            done = "办件已恢复办理。"
        else:
            raise ValidationError(
                "workbench.action", "未知操作。", "Unknown action.", field="action"
            )
    except ZwfwError as error:
        return _refused(request, case, error)
    return _done(request, case, done)


# --- correction notice builder (补正告知，一次性告知) --------------------------------------------


def _correction_entries(request: HttpRequest, case: Case) -> tuple[list[dict[str, Any]], list]:
    """The builder's rows as posted: every ticked checklist material with its problem, and
    the free rows (a material outside the checklist)."""
    checklist = case.item_version.content.get("materials", []) or []
    items: list[dict[str, Any]] = []
    for index, entry in enumerate(checklist):
        if request.POST.get(f"c_{index}"):
            items.append(
                {
                    "checklist_index": index,
                    "material": str(entry.get("name", "")),
                    "problem": _text(request, f"p_{index}", 500),
                }
            )
    extra_rows = []
    for row in range(EXTRA_CORRECTION_ROWS):
        name = _text(request, f"x_name_{row}", 200)
        problem = _text(request, f"x_problem_{row}", 500)
        extra_rows.append({"row": row, "name": name, "problem": problem})
        if name or problem:
            items.append({"checklist_index": None, "material": name, "problem": problem})
    return items, extra_rows


def _builder_rows(request: HttpRequest, case: Case, posted: bool) -> list[dict[str, Any]]:
    checklist, _extra = _materials(case)
    missing = {m["checklist_index"] for m in case_services.missing_materials(case)}
    rows = []
    for row in checklist:
        index = row["index"]
        defective = [m for m in row["given"] if m.status == CaseMaterial.Status.NEEDS_CORRECTION]
        if posted:
            checked = bool(request.POST.get(f"c_{index}"))
            problem = _text(request, f"p_{index}", 500)
        else:
            checked = index in missing
            problem = "未提交" if index in missing else ""
        rows.append(
            {
                **row,
                "missing": index in missing,
                "defective": defective,
                "checked": checked,
                "problem": problem,
            }
        )
    return rows


@staff_required(CASE_ROLES)
def correction_builder(request: HttpRequest, ref: str) -> HttpResponse:
    """GET: the builder (missing required materials pre-ticked). POST ``preview``: the notice
    as it will read; POST ``issue``: :func:`zwfw.cases.services.request_correction`."""
    case = _case(request, ref, "correction")
    posted = request.method == "POST"
    context: dict[str, Any] = {
        "case": case,
        "rows": _builder_rows(request, case, posted),
        "note": _text(request, "note") if posted else "",
        "deadline": _text(request, "deadline", 10) if posted else "",
        "active": "cases",
    }
    items, extra_rows = _correction_entries(request, case) if posted else ([], [])
    context["extra_rows"] = extra_rows or [
        {"row": r, "name": "", "problem": ""} for r in range(EXTRA_CORRECTION_ROWS)
    ]
    if not posted:
        return render(request, "workbench/correction.html", context)
    action = request.POST.get("action", "preview")
    try:
        deadline = _date(context["deadline"], "deadline") if context["deadline"] else None
        problems = [i for i in items if not i["problem"] or not i["material"]]
        if not items:
            raise ValidationError(
                "cases.correction_empty",
                "补正告知须一次性列明所有需补正的材料（至少一项）。",
                "List at least one material.",
            )
        if problems:
            raise ValidationError(
                "workbench.correction_problem",
                "每项需补正的材料都须写明材料名称和问题。",
                "Every entry needs a material name and a problem.",
            )
        if action == "issue":
            case_services.request_correction(
                request.user, case, items, context["note"], deadline=deadline
            )
            return _done(request, case, f"补正告知书已发出（共{len(items)}项），办理时限暂停。")
    except ZwfwError as error:
        context["error"] = error.message
        return render(request, "workbench/correction.html", context, status=_error_status(error))
    context["preview_items"] = items
    context["preview_deadline"] = deadline
    return render(request, "workbench/correction.html", context)


# --- files ----------------------------------------------------------------------------------------


@require_GET
@xframe_options_sameorigin
@staff_required(CASE_ROLES)
def material_file(request: HttpRequest, ref: str, material_id: int) -> HttpResponse:
    """A material's file, after the case permission check; the read is audited."""
    from zwfw.cases import files

    case = _case(request, ref, "material")
    material = case.materials.select_related("file").filter(pk=material_id).first()
    if material is None or material.file is None:
        raise Http404("材料不存在。")
    try:
        data = files.read_file(material.file)
    except ZwfwError as error:
        return render(
            request,
            "workbench/forbidden.html",
            {"message": error.message},
            status=_error_status(error),
        )
    stored = material.file
    response = HttpResponse(data, content_type=stored.media_type)
    disposition = "inline" if stored.media_type in INLINE_TYPES else "attachment"
    response["Content-Disposition"] = (
        f"{disposition}; filename*=UTF-8''{_quote(stored.original_name)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name or "file")


@require_GET
@xframe_options_sameorigin
@staff_required(CASE_ROLES)
def notice_pdf(request: HttpRequest, ref: str, notice_id: int) -> HttpResponse:
    from zwfw.cases import notices

    case = _case(request, ref, "notice")
    notice = case.notices.filter(pk=notice_id).first()
    if notice is None:
        raise Http404("文书不存在。")
    try:
        data = notices.notice_pdf_bytes(notice)
    except ZwfwError as error:
        return render(
            request,
            "workbench/forbidden.html",
            {"message": error.message},
            status=_error_status(error),
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{notice.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
