"""我要办: the guided application of the portal.

``/apply/<code>/`` checks who may apply (eligibility: the item's 受理条件 confirmed, its
minimum trust level, person or company), then starts a draft (``cases.services.create_draft``);
``/drafts/<id>/`` fills the form (prefilled from the profile by the service), attaches each
material of the checklist (upload, reuse from my material library, or an electronic licence);
``/drafts/<id>/review/`` shows everything once more and submits. Every form posts to the
server (CSRF), so the whole application works without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zwfw.cases import services
from zwfw.cases.models import Case, CaseMaterial, CaseStatus, DeliveryMethod
from zwfw.core.errors import NotFound, ZwfwError
from zwfw.portal import access

#: Drafts listed on 我要办 (newest first).
DRAFTS_SHOWN = 20
#: Files of my material library offered for reuse on each checklist entry.
LIBRARY_SHOWN = 20


@require_GET
def apply_index(request: HttpRequest) -> HttpResponse:
    """我要办: my saved drafts, and the ways to find an item that can be applied for online."""
    drafts: list[Case] = []
    if request.user.is_authenticated:
        drafts = list(
            access.my_case_queryset(request)
            .filter(status=CaseStatus.DRAFT)
            .select_related("department")
            .order_by("-pk")[:DRAFTS_SHOWN]
        )
    from zwfw.portal.views import life_events

    return render(
        request,
        "portal/apply_index.html",
        {"drafts": drafts, "life_events": life_events()},
    )


def _item(code: str) -> Any:
    from zwfw.catalog.models import Item, ItemStatus

    item = (
        Item.objects.select_related("current_version", "department")
        .filter(implementation_code=code[:64], status=ItemStatus.PUBLISHED)
        .first()
    )
    if item is None or item.current_version is None:
        raise Http404("no such published item")
    return item


def _eligibility(request: HttpRequest, item: Any) -> list[str]:
    """Why the signed-in user cannot apply for ``item`` now (empty: they can)."""
    from zwfw.catalog.guide import APPLY_DEPTHS
    from zwfw.core import codes
    from zwfw.identity.models import trust_at_least

    content = item.current_version.content
    problems = []
    depth = codes.online_depth_level(
        content.get("online_steps", []),
        issues_licence=content.get("result_type") == codes.ResultType.LICENCE,
    )
    if depth not in APPLY_DEPTHS:
        problems.append("本事项暂不支持在线申请，请到办理地点现场办理。")
    needed = str(content.get("min_trust_level") or "L2")
    have = getattr(request.user, "trust_level", "") or "L1"
    if not trust_at_least(have, needed):
        problems.append(
            f"申请本事项需要实名信任等级 {needed}，您当前为 {have}。"
            "请到政务服务大厅或通过更多要素核验提升等级。"
        )
    targets = set(content.get("targets", []))
    natural = codes.ServiceTarget.NATURAL_PERSON.value
    acting = access.acting_uscc(request)
    if acting and targets and targets == {natural}:
        problems.append("本事项只面向个人，请先切换回个人身份。")
    if not acting and targets and natural not in targets:
        problems.append("本事项只面向法人或其他组织，请先切换到“代表单位办理”。")
    return problems


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, implementation_code: str) -> HttpResponse:
    """Eligibility, then a new draft (or back to the open draft of the same item)."""
    item = _item(implementation_code)
    content = item.current_version.content
    problems = _eligibility(request, item)
    existing = (
        access.my_case_queryset(request)
        .filter(status=CaseStatus.DRAFT, implementation_code=item.implementation_code)
        .order_by("-pk")
        .first()
    )
    context: dict[str, Any] = {
        "item": item,
        "content": content,
        "problems": problems,
        "existing": existing,
        "error": None,
        "steps": _steps(1),
    }
    if request.method == "POST":
        if problems:
            return render(request, "portal/apply_start.html", context, status=403)
        if content.get("conditions") and request.POST.get("conditions_met") != "yes":
            context["error"] = {
                "message": "请确认您符合受理条件后再开始申请。",
                "field": "conditions",
            }
            return render(request, "portal/apply_start.html", context, status=400)
        try:
            case = services.create_draft(
                request.user, item.implementation_code, acting_uscc=access.acting_uscc(request)
            )
        except ZwfwError as exc:
            context["error"] = exc
            return render(request, "portal/apply_start.html", context, status=exc.http_status)
        return HttpResponseRedirect(reverse("portal:draft", args=[case.pk]))
    return render(request, "portal/apply_start.html", context)


def _steps(current: int) -> list[dict[str, Any]]:
    names = ("确认条件", "填写申请", "上传材料", "核对提交")
    return [{"name": n, "current": i == current} for i, n in enumerate(names, start=1)]


def _form_fields(case: Case, values: dict[str, Any]) -> list[dict[str, Any]]:
    fields = []
    for field in services.form_definition(case.item_version.content):
        value = values.get(field["name"], "")
        fields.append({**field, "value": "" if value is None else value})
    return fields


def _checklist(case: Case) -> list[dict[str, Any]]:
    """The item's materials with the case's current material of each (one query)."""
    current: dict[int | None, CaseMaterial] = {}
    for material in (
        case.materials.exclude(status=CaseMaterial.Status.SUPERSEDED)
        .select_related("file")
        .order_by("id")
    ):
        current[material.checklist_index] = material
    entries = []
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        entries.append(
            {
                "index": index,
                "name": entry.get("name", ""),
                "required": entry.get("required", True),
                "licence_type": entry.get("licence_type", ""),
                "instructions": entry.get("instructions", ""),
                "material": current.get(index),
            }
        )
    return entries


def _library(request: HttpRequest, case: Case) -> list[Any]:
    from zwfw.cases import files

    return list(files.library_for(request.user, case.company, limit=LIBRARY_SHOWN).items)


def _int(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def material_action(request: HttpRequest, case: Case) -> str:
    """Handle one material form (upload / reuse / licence) of a draft or a correction;
    returns the notice to show. Raises ZwfwError with the reason."""
    from zwfw.core.errors import ValidationError

    action = request.POST.get("action", "")
    index = _int(request.POST.get("checklist_index"))
    acting = access.acting_uscc(request)
    if action == "upload":
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError(
                "portal.file_missing", "请选择要上传的文件。", "Choose a file.", field="file"
            )
        name = upload.name or "upload"
        services.add_material_upload(
            request.user,
            case,
            checklist_index=index,
            name=name,
            data=upload.read(),
            acting_uscc=acting,
        )
        return f"已上传：{name}"
    if action == "reuse":
        stored = _int(request.POST.get("stored_file_id"))
        if stored is None:
            raise ValidationError(
                "portal.file_missing",
                "请从材料库中选择一个文件。",
                "Choose a file from your library.",
                field="stored_file_id",
            )
        services.reuse_material(
            request.user, case, checklist_index=index, stored_file_id=stored, acting_uscc=acting
        )
        return "已从材料库复用该文件。"
    if action == "licence":
        if index is None:
            raise ValidationError(
                "cases.material_index",
                "请选择材料。",
                "Choose a material.",
                field="checklist_index",
            )
        services.reference_licence(
            request.user,
            case,
            checklist_index=index,
            licence_identifier=request.POST.get("licence_identifier", ""),
            acting_uscc=acting,
        )
        return "已关联电子证照。"
    raise ValidationError("portal.action", "未知操作。", "Unknown action.", field="action")


@login_required
@require_http_methods(["GET", "POST"])
def draft(request: HttpRequest, case_id: int) -> HttpResponse:
    """Fill a draft: the form, then the materials (each form posts back here)."""
    case = access.my_case(request, case_id)
    if case.status != CaseStatus.DRAFT:
        return HttpResponseRedirect(reverse("portal:my_case", args=[case.pk]))
    error: ZwfwError | None = None
    notice = (request.GET.get("saved") and "已保存。") or ""
    posted: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action in {"save", "next"}:
                names = [f["name"] for f in services.form_definition(case.item_version.content)]
                posted = {}
                for name in names:
                    field_type = next(
                        f.get("type")
                        for f in services.form_definition(case.item_version.content)
                        if f["name"] == name
                    )
                    if field_type == "checkbox":
                        posted[name] = request.POST.get(name) == "on"
                    elif name in request.POST:
                        posted[name] = request.POST.get(name, "").strip()
                services.update_draft(
                    request.user, case, posted, acting_uscc=access.acting_uscc(request)
                )
                target = "portal:review" if action == "next" else "portal:draft"
                suffix = "" if action == "next" else "?saved=1#materials"
                return HttpResponseRedirect(reverse(target, args=[case.pk]) + suffix)
            notice = material_action(request, case)
            return HttpResponseRedirect(
                reverse("portal:draft", args=[case.pk]) + "?saved=1#materials"
            )
        except ZwfwError as exc:
            error = exc
            status = exc.http_status
    case.refresh_from_db()
    values = services.form_values(case)
    if posted:
        values.update(posted)  # show what was typed, with the error
    return render(
        request,
        "portal/draft.html",
        {
            "case": case,
            "fields": _form_fields(case, values),
            "checklist": _checklist(case),
            "library": _library(request, case),
            "error": error,
            "field_errors": _field_errors(error),
            "notice": notice,
            "steps": _steps(2),
        },
        status=status,
    )


def _field_errors(error: ZwfwError | None) -> dict[str, str]:
    """Messages per form field from a service error (``details.errors`` or ``field``)."""
    if error is None:
        return {}
    found: dict[str, str] = {}
    for entry in (error.details or {}).get("errors", []) if error.details else []:
        if isinstance(entry, dict) and entry.get("field"):
            found[str(entry["field"])] = str(entry.get("message", ""))
    if error.field and error.field not in found:
        found[error.field] = error.message
    return found


@login_required
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, case_id: int) -> HttpResponse:
    """核对提交: the form and materials once more; submitting shows the case number and the
    query password (once: only its hash is kept)."""
    case = access.my_case(request, case_id)
    if case.status != CaseStatus.DRAFT:
        return HttpResponseRedirect(reverse("portal:my_case", args=[case.pk]))
    error: ZwfwError | None = None
    status = 200
    if request.method == "POST":
        try:
            method = request.POST.get("delivery_method", "")
            if method:  # 送达方式 of the result, chosen with the submission
                services.choose_delivery(
                    request.user,
                    case,
                    method,
                    request.POST.get("delivery_address", ""),
                    acting_uscc=access.acting_uscc(request),
                )
            submission = services.submit(
                request.user, case, acting_uscc=access.acting_uscc(request)
            )
        except ZwfwError as exc:
            error = exc
            status = exc.http_status
        else:
            return render(
                request,
                "portal/submitted.html",
                {"case": submission.case, "query_password": submission.query_password},
            )
    values = services.form_values(case)
    return render(
        request,
        "portal/review.html",
        {
            "case": case,
            "fields": _form_fields(case, values),
            "checklist": _checklist(case),
            "missing": services.missing_materials(case),
            "error": error,
            "steps": _steps(4),
            "delivery_post": bool(case.item_version.content.get("supports_delivery")),
            "delivery_method": request.POST.get("delivery_method")
            or case.delivery_method
            or DeliveryMethod.ELECTRONIC,
            "delivery_address": request.POST.get("delivery_address") or case.delivery_address,
        },
        status=status,
    )


@login_required
@require_POST
def discard(request: HttpRequest, case_id: int) -> HttpResponse:
    """Give up a draft (it is kept, withdrawn, for the record)."""
    try:
        case = access.my_case(request, case_id)
        services.withdraw(
            request.user, case, "申请人放弃草稿", acting_uscc=access.acting_uscc(request)
        )
    except NotFound:
        raise Http404("no such case") from None
    except ZwfwError:
        return HttpResponseRedirect(reverse("portal:my_case", args=[case_id]))
    return HttpResponseRedirect(reverse("portal:apply_index"))
