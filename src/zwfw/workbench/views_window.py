"""窗口收件 (J7): a window clerk applies on behalf of a person present at the hall — finds the
person's account by ID number (registered at ``/workbench/identity/register/`` if new), fills
the application form, scans the paper materials (copy level B by default), then submits and
accepts; the acceptance notice with its QR code is printed from the case page.

Everything goes through ``zwfw.cases.services`` (``create_draft(clerk=…)``,
``add_material_upload`` by the clerk of a window case, ``submit``, ``accept``), which check the
clerk's role in the item's department and the person's trust level.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from zwfw.cases import services as case_services
from zwfw.cases.models import Case, CaseMaterial, CaseStatus, SubmitChannel
from zwfw.core import audit
from zwfw.core.errors import NotFound, ValidationError, ZwfwError
from zwfw.core.masking import mask_id_number, mask_name
from zwfw.organisations.models import Role
from zwfw.workbench import selectors
from zwfw.workbench.access import staff_required

CLERKS = frozenset({Role.CLERK})
COPY_LEVELS = [
    ("A", "A 级（原件扫描，已核验）"),
    ("B", "B 级（复印件扫描）"),
    ("C", "C 级"),
    ("D", "D 级"),
]
UPLOAD_MAX_BYTES = 20 * 1024 * 1024


def _text(request: HttpRequest, name: str, limit: int = 2000) -> str:
    return str(request.POST.get(name, "")).replace("\r\n", "\n").strip()[:limit]


def _person(request: HttpRequest, id_number: str) -> Any:
    from zwfw.identity.services import user_by_id_number

    if not (len(id_number) == 18 and id_number[:17].isascii() and id_number[:17].isdigit()):
        raise ValidationError(
            "workbench.id_number",
            "请输入18位居民身份证号码。",
            "Enter an 18-character resident ID number.",
            field="id_number",
        )
    person = user_by_id_number(id_number.upper())
    if person is None or person.kind != "person":
        raise NotFound(
            "workbench.person_unknown",
            "未找到该身份证号码的账户，请先为申请人办理窗口登记。",
            "No account with this ID number; register the person at the window first.",
            field="id_number",
        )
    # Looking a person up by ID number is a read of their personal data.
    audit.record_read("identity.user", person.pk, purpose="window_intake", fields=["id_number"])
    return person


def _form_values(request: HttpRequest, definition: list[dict[str, Any]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in definition:
        name = str(field.get("name", ""))
        if field.get("type") == "checkbox":
            values[name] = bool(request.POST.get(f"f_{name}"))
        else:
            text = _text(request, f"f_{name}", int(field.get("max_length") or 500))
            if text:
                values[name] = text
    return values


@require_http_methods(["GET", "POST"])
@staff_required(CLERKS)
def window_start(request: HttpRequest) -> HttpResponse:
    """Step 1: the person and the item; step 2 (same page): the application form."""
    context: dict[str, Any] = {
        "items": selectors.window_items(request.user),
        "id_number": _text(request, "id_number", 18).upper(),
        "item_code": _text(request, "item", 64),
        "active": "window",
    }
    if request.method == "GET":
        return render(request, "workbench/window_start.html", context)
    try:
        person = _person(request, context["id_number"])
        context["person"] = {
            "name": mask_name(person.real_name),
            "id_number": mask_id_number(person.id_number),
            "trust_level": person.trust_level,
        }
        item = next(
            (i for i in context["items"] if i.implementation_code == context["item_code"]), None
        )
        if item is None:
            raise ValidationError(
                "workbench.item", "请选择本窗口受理的事项。", "Choose an item.", field="item"
            )
        context["item"] = item
        definition = case_services.form_definition(item.current_version.content)
        context["fields"] = definition
        if request.POST.get("action") == "create":
            case = case_services.create_draft(
                person,
                item.implementation_code,
                clerk=request.user,
                channel=SubmitChannel.WINDOW,
                form_data=_form_values(request, definition),
            )
            messages.success(request, "已创建申请，请扫描申请人的纸质材料。")
            return HttpResponseRedirect(reverse("workbench:window_case", args=[case.pk]))
    except ZwfwError as error:
        context["error"] = error.message
        return render(request, "workbench/window_start.html", context, status=error.http_status)
    return render(request, "workbench/window_start.html", context)


def _window_case(request: HttpRequest, case_id: int) -> Case:
    case = (
        Case.objects.select_related("item_version", "department")
        .filter(
            pk=case_id,
            agent_id=request.user.pk,
            channel=SubmitChannel.WINDOW,
            status=CaseStatus.DRAFT,
        )
        .first()
    )
    if case is None:
        raise Http404("没有该窗口申请（或已提交）。")
    return case


@require_http_methods(["GET", "POST"])
@staff_required(CLERKS)
def window_case(request: HttpRequest, case_id: int) -> HttpResponse:
    """Step 3: scan each paper material; then 提交并受理."""
    case = _window_case(request, case_id)
    context: dict[str, Any] = {"case": case, "copy_levels": COPY_LEVELS, "active": "window"}
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("action") == "submit":
                submission = case_services.submit(request.user, case)
                case_services.accept(
                    request.user, submission.case, opinion=_text(request, "opinion")
                )
                messages.success(
                    request,
                    f"已提交并受理。查询密码：{submission.query_password}"
                    "（仅显示这一次，请告知申请人或写在回执上）。",
                )
                return HttpResponseRedirect(
                    reverse("workbench:case", args=[submission.case.number])
                )
            _scan(request, case)
            messages.success(request, "材料已上传。")
            return HttpResponseRedirect(reverse("workbench:window_case", args=[case.pk]))
        except ZwfwError as error:
            context["error"] = error.message
            status = error.http_status
    checklist = case.item_version.content.get("materials", []) or []
    current = {
        m.checklist_index: m
        for m in case.materials.exclude(status=CaseMaterial.Status.SUPERSEDED).select_related(
            "file"
        )
    }
    context["rows"] = [
        {
            "index": index,
            "name": entry.get("name", ""),
            "required": entry.get("required", True),
            "given": current.get(index),
        }
        for index, entry in enumerate(checklist)
    ]
    context["missing"] = case_services.missing_materials(case)
    return render(request, "workbench/window_case.html", context, status=status)


def _scan(request: HttpRequest, case: Case) -> None:
    upload = request.FILES.get("file")
    index_text = str(request.POST.get("index", ""))
    if upload is None or not index_text.isdigit():
        raise ValidationError(
            "workbench.scan", "请选择材料并上传扫描件。", "Choose a scan.", field="file"
        )
    if upload.size is not None and upload.size > UPLOAD_MAX_BYTES:
        raise ValidationError(
            "workbench.scan_size", "扫描件不能超过20 MB。", "The scan is too large.", field="file"
        )
    case_services.add_material_upload(
        request.user,
        case,
        checklist_index=int(index_text),
        name=upload.name or "scan.pdf",
        data=upload.read(),
        copy_level=str(request.POST.get("copy_level", "B"))[:1],
    )
