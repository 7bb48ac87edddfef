"""Catalogue pages: the items of the officer's departments, the edit form that drafts a change
request (变更), the review queue (编制审核 / 法制审核), version history, the side-by-side version
diff and the Excel import with its row-error report. Writes go through
``zwfw.catalog.services`` and ``zwfw.catalog.importing``, which check permissions and audit.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zwfw.catalog import importing
from zwfw.catalog import selectors as catalog_selectors
from zwfw.catalog import services as catalog_services
from zwfw.catalog.content import MaterialKind
from zwfw.catalog.diff import diff
from zwfw.catalog.models import ChangeKind, ChangeRequest, ChangeStatus, Item, ItemStatus
from zwfw.core import codes
from zwfw.core.errors import NotFound, ValidationError, ZwfwError
from zwfw.organisations.models import Role
from zwfw.workbench import presentation
from zwfw.workbench.access import CATALOG_ROLES, IMPORT_ROLES, Staff, staff_required

PAGE_SIZE = 20
TEXT_MAX = 4000
#: The largest upload the import page takes (the API's limit; larger lists go through
#: ``zwfw import_items`` on the server).
IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_ROWS = 20_000


def _staff(request: HttpRequest) -> Staff:
    return request.staff  # type: ignore[attr-defined]


def _text(request: HttpRequest, name: str, limit: int = TEXT_MAX) -> str:
    # Browsers send textarea line breaks as CRLF; the content keeps LF.
    return str(request.POST.get(name, "")).replace("\r\n", "\n").strip()[:limit]


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    if text.isascii() and text.isdigit() and len(text) < 10:
        return int(text)
    return None


def _item(request: HttpRequest, code: str) -> Item:
    item = (
        catalog_selectors.items_for_staff(request.user)
        .select_related("current_version")
        .filter(implementation_code=code)
        .first()
    )
    if item is None:
        raise Http404("事项不存在或无权查看。")
    return item


# --- items ----------------------------------------------------------------------------------------


@require_GET
@staff_required(CATALOG_ROLES)
def items(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status and status not in ItemStatus.values:
        status = ""
    try:
        page = catalog_selectors.list_items_for_staff(
            request.user,
            department=_int(request.GET.get("department")),
            status=status or None,
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except ZwfwError as error:  # a damaged cursor
        return render(
            request,
            "workbench/items.html",
            {"rows": [], "statuses": ItemStatus.choices, "error": error.message, "active": "items"},
            status=error.http_status,
        )
    params = request.GET.copy()
    params.pop("cursor", None)
    officer_departments = {
        d for d, _, r in _staff(request).departments if r == Role.CATALOG_OFFICER
    }
    return render(
        request,
        "workbench/items.html",
        {
            "rows": page.items,
            "next_cursor": page.next_cursor,
            "statuses": ItemStatus.choices,
            "status": status,
            "editable": officer_departments,
            "node_admin": _staff(request).has(frozenset({Role.NODE_ADMIN})),
            "query_without_cursor": params.urlencode(),
            "active": "items",
        },
    )


def _edit_values(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "promised_value": content["promised_time_limit"]["value"],
        "promised_unit": content["promised_time_limit"].get("unit", "1"),
        "legal_value": content["legal_time_limit"]["value"],
        "legal_unit": content["legal_time_limit"].get("unit", "1"),
        "conditions": content.get("conditions", ""),
        "place": content.get("place", ""),
        "hours": content.get("hours", ""),
        "consult_phone": content.get("consult_phone", ""),
        "review_points": "\n".join(content.get("review_points") or []),
        "reason": "",
        "new_name": "",
        "new_required": True,
        "new_kinds": [],
        "new_copies": "",
        "new_standard": "",
    }


def _limit(request: HttpRequest, name: str, label: str) -> int:
    value = _int(request.POST.get(name))
    if value is None:
        raise ValidationError(
            "workbench.time_limit",
            f"{label}应为不超过3650的整数（天）。",
            f"{name} must be a whole number of days.",
            field=name,
        )
    return value


def _proposal(request: HttpRequest, content: dict[str, Any]) -> dict[str, Any]:
    """The item's current content with the form's changes applied (only what differs, so an
    untouched field stays byte-identical and the version diff shows only real changes)."""
    proposal = copy.deepcopy(content)
    for key, label in (("promised", "承诺办结时限"), ("legal", "法定办结时限")):
        element = proposal[f"{key}_time_limit"]
        value = _limit(request, f"{key}_value", label)
        unit = _text(request, f"{key}_unit", 2) or element.get("unit", "1")
        if value != element.get("value"):
            element["value"] = value
        if unit != element.get("unit", "1"):
            element["unit"] = unit
    for field in ("conditions", "place", "hours", "consult_phone"):
        posted = _text(request, field)
        if posted != (proposal.get(field) or "").strip():
            proposal[field] = posted
    points = [p.strip() for p in _text(request, "review_points").split("\n") if p.strip()]
    if points != list(proposal.get("review_points") or []):
        proposal["review_points"] = points
    removed = set(request.POST.getlist("remove_material"))
    materials = proposal.get("materials") or []
    if removed:
        proposal["materials"] = [m for i, m in enumerate(materials) if str(i) not in removed]
    new_name = _text(request, "new_name", 200)
    if new_name:
        copies = _int(request.POST.get("new_copies"))
        material: dict[str, Any] = {
            "name": new_name,
            "kinds": [k for k in request.POST.getlist("new_kinds") if k in MaterialKind.values],
            # Paper as well as electronic only when the officer says how many paper copies.
            "forms": ["1", "2"] if copies else ["2"],
            "source": "1",
            "required": bool(request.POST.get("new_required")),
        }
        if copies:
            material["paper_copies"] = copies
        standard = _text(request, "new_standard", 1000)
        if standard:
            material["acceptance_standard"] = standard
        proposal.setdefault("materials", []).append(material)
    return proposal


@require_http_methods(["GET", "POST"])
@staff_required(frozenset({Role.CATALOG_OFFICER, Role.NODE_ADMIN}))
def item_edit(request: HttpRequest, code: str) -> HttpResponse:
    """变更: the edit form; saving drafts a change request (and submits it for review when
    the officer chose 提交审核)."""
    item = _item(request, code)
    if item.current_version is None:
        raise Http404("该事项尚无已发布版本，不能变更。")
    content = item.current_version.content
    context: dict[str, Any] = {
        "item": item,
        "content": content,
        "values": _edit_values(content),
        "units": codes.TimeLimitUnit.choices,
        "material_kinds": MaterialKind.choices,
        "may_edit": catalog_services.can_edit(request.user, item.department),
        "active": "items",
    }
    if request.method == "GET":
        return render(request, "workbench/item_edit.html", context)
    values = dict(context["values"])
    for key in values:
        if key in ("new_required",):
            values[key] = bool(request.POST.get(key))
        elif key == "new_kinds":
            values[key] = request.POST.getlist(key)
        else:
            values[key] = _text(request, key)
    context["values"] = values
    context["removed"] = set(request.POST.getlist("remove_material"))
    try:
        proposal = _proposal(request, content)
        if not diff(content, proposal):
            raise ValidationError(
                "workbench.no_change", "未作任何修改。", "Nothing was changed.", field="form"
            )
        change = catalog_services.create_change_request(
            user=request.user,
            kind=ChangeKind.CHANGE,
            department=item.department,
            sources=[item],
            proposals=[proposal],
            reason=_text(request, "reason", 2000),
        )
        if request.POST.get("action") == "submit":
            catalog_services.submit_change_request(change, user=request.user)
            messages.success(request, f"变更申请 #{change.pk} 已提交审核。")
        else:
            messages.success(request, f"变更申请 #{change.pk} 已保存为草稿。")
    except ZwfwError as error:
        context["error"] = error.message
        context["error_details"] = presentation.error_lines(error)
        return render(request, "workbench/item_edit.html", context, status=error.http_status)
    return HttpResponseRedirect(reverse("workbench:change", args=[change.pk]))


#: 暂停 / 取消 / 恢复 offered for an item in each status (the service checks them again).
STATUS_CHANGES: dict[str, list[tuple[str, str]]] = {
    ItemStatus.PUBLISHED: [
        (ChangeKind.SUSPEND, ChangeKind.SUSPEND.label),
        (ChangeKind.CANCEL, ChangeKind.CANCEL.label),
    ],
    ItemStatus.SUSPENDED: [
        (ChangeKind.RESUME, ChangeKind.RESUME.label),
        (ChangeKind.CANCEL, ChangeKind.CANCEL.label),
    ],
}


def _versions_context(request: HttpRequest, item: Item) -> dict[str, Any]:
    versions = catalog_selectors.versions_of(item)
    return {
        "item": item,
        "versions": list(reversed(versions)),
        "status_changes": STATUS_CHANGES.get(item.status, []),
        "may_edit": catalog_services.can_edit(request.user, item.department),
        "active": "items",
    }


@require_GET
@staff_required(CATALOG_ROLES)
def item_versions(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(request, code)
    return render(request, "workbench/versions.html", _versions_context(request, item))


@require_POST
@staff_required(frozenset({Role.CATALOG_OFFICER, Role.NODE_ADMIN}))
def item_status(request: HttpRequest, code: str) -> HttpResponse:
    """暂停 / 取消 / 恢复: a change request without new content, submitted for review at once."""
    item = _item(request, code)
    kind = request.POST.get("kind", "")
    try:
        if kind not in {k for k, _ in STATUS_CHANGES.get(item.status, [])}:
            raise ValidationError(
                "workbench.status_change",
                f"事项当前状态为{item.get_status_display()}，不能执行该操作。",
                "This status change is not possible now.",
                field="kind",
            )
        change = catalog_services.create_change_request(
            user=request.user,
            kind=kind,
            department=item.department,
            sources=[item],
            reason=_text(request, "reason", 2000),
        )
        catalog_services.submit_change_request(change, user=request.user)
    except ZwfwError as error:
        context = _versions_context(request, item)
        context["error"] = error.message
        return render(request, "workbench/versions.html", context, status=error.http_status)
    messages.success(request, f"{ChangeKind(kind).label}申请 #{change.pk} 已提交审核。")
    return HttpResponseRedirect(reverse("workbench:change", args=[change.pk]))


@require_GET
@staff_required(CATALOG_ROLES)
def item_diff(request: HttpRequest, code: str) -> HttpResponse:
    """Two versions side by side: one row per changed element."""
    item = _item(request, code)
    latest = item.version_count
    to_number = _int(request.GET.get("to")) or latest
    from_number = _int(request.GET.get("from")) or max(1, to_number - 1)
    try:
        before = catalog_selectors.get_version(item, from_number)
        after = catalog_selectors.get_version(item, to_number)
    except NotFound as error:
        raise Http404(error.message) from None
    changes = diff(before.content, after.content)
    return render(
        request,
        "workbench/diff.html",
        {
            "item": item,
            "before": before,
            "after": after,
            "rows": presentation.diff_rows(changes),
            "numbers": list(range(1, latest + 1)),
            "before_title": f"第{before.number}版",
            "after_title": f"第{after.number}版",
            "active": "items",
        },
    )


# --- change requests and their review -------------------------------------------------------------


@require_GET
@staff_required(CATALOG_ROLES)
def changes(request: HttpRequest) -> HttpResponse:
    staff = _staff(request)
    reviewer = staff.has(frozenset({Role.CATALOG_REVIEWER}))
    default = ChangeStatus.IN_REVIEW if reviewer else ""
    status = request.GET.get("status", default)
    if status and status not in ChangeStatus.values:
        status = default
    try:
        page = catalog_selectors.list_change_requests(
            request.user,
            status=status or None,
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except ZwfwError as error:  # a damaged cursor
        return render(
            request,
            "workbench/changes.html",
            {"rows": [], "statuses": ChangeStatus.choices, "error": error.message},
            status=error.http_status,
        )
    params = request.GET.copy()
    params.pop("cursor", None)
    return render(
        request,
        "workbench/changes.html",
        {
            "rows": page.items,
            "next_cursor": page.next_cursor,
            "statuses": ChangeStatus.choices,
            "status": status,
            "reviewer": reviewer,
            "query_without_cursor": params.urlencode(),
            "active": "changes",
        },
    )


def _change(request: HttpRequest, change_id: int) -> ChangeRequest:
    try:
        return catalog_selectors.get_change_request(request.user, change_id)
    except NotFound:
        raise Http404("变更申请不存在，或无权查看。") from None


def _change_context(request: HttpRequest, change: ChangeRequest) -> dict[str, Any]:
    staff = _staff(request)
    sources = list(change.sources.select_related("current_version").all())
    comparisons = []
    for index, proposal in enumerate(change.proposals):
        code = proposal.get("implementation_code")
        source = next((s for s in sources if s.implementation_code == code), None)
        current = source.current_version.content if source and source.current_version else None
        comparisons.append(
            {
                "index": index,
                "name": proposal.get("name", ""),
                "code": code,
                "source": source,
                "rows": presentation.diff_rows(diff(current, proposal)) if current else None,
            }
        )
    steps = change.review_steps or [
        {"code": s.code, "name": s.name} for s in catalog_services.review_steps()
    ]
    reviews = list(change.reviews.all())
    reviewer_ids = {r.reviewer_id for r in reviews}
    may_review = (
        change.status == ChangeStatus.IN_REVIEW
        and staff.has(frozenset({Role.CATALOG_REVIEWER}))
        and request.user.pk != change.created_by_id
        and request.user.pk not in reviewer_ids
    )
    may_edit = catalog_services.can_edit(request.user, change.department)
    return {
        "change": change,
        "sources": sources,
        "comparisons": comparisons,
        "steps": [
            {
                **step,
                "review": next((r for r in reviews if r.step == step["code"]), None),
                "current": change.status == ChangeStatus.IN_REVIEW and index == change.current_step,
            }
            for index, step in enumerate(steps)
        ],
        "reviews": reviews,
        "current_step": steps[change.current_step]
        if change.status == ChangeStatus.IN_REVIEW and change.current_step < len(steps)
        else None,
        "may_review": may_review,
        "may_submit": may_edit and change.status == ChangeStatus.DRAFT,
        "may_withdraw": may_edit and change.status in (ChangeStatus.DRAFT, ChangeStatus.IN_REVIEW),
        "active": "changes",
    }


@require_GET
@staff_required(CATALOG_ROLES)
def change_detail(request: HttpRequest, change_id: int) -> HttpResponse:
    change = _change(request, change_id)
    return render(request, "workbench/change_detail.html", _change_context(request, change))


@require_POST
@staff_required(CATALOG_ROLES)
def change_act(request: HttpRequest, change_id: int) -> HttpResponse:
    change = _change(request, change_id)
    action = request.POST.get("action", "")
    opinion = _text(request, "opinion", 2000)
    try:
        if action in ("approve", "reject"):
            step_name = ""
            if change.status == ChangeStatus.IN_REVIEW and change.current_step < len(
                change.review_steps
            ):
                step_name = change.review_steps[change.current_step]["name"]
            change = catalog_services.review_change_request(
                change, user=request.user, approve=action == "approve", opinion=opinion
            )
            if action == "reject":
                done = f"{step_name}：已退回。"
            elif change.status == ChangeStatus.APPROVED:
                done = f"{step_name}：同意。审核完成，新版本已发布。"
            else:
                done = f"{step_name}：同意，已转下一审核环节。"
        elif action == "submit":
            change = catalog_services.submit_change_request(change, user=request.user)
            done = "已提交审核。"
        elif action == "withdraw":
            change = catalog_services.withdraw_change_request(change, user=request.user)
            done = "已撤回。"
        else:
            raise ValidationError("workbench.action", "未知操作。", "Unknown action.")
    except ZwfwError as error:
        change = _change(request, change_id)
        context = _change_context(request, change)
        context["error"] = error.message
        context["opinion"] = opinion
        return render(request, "workbench/change_detail.html", context, status=error.http_status)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("workbench:change", args=[change.pk]))


# --- import ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required(IMPORT_ROLES)
def import_items(request: HttpRequest) -> HttpResponse:
    """Upload an .xlsx/.csv list; the report gives every rejected row's column and reason."""
    context: dict[str, Any] = {"active": "import", "max_mb": IMPORT_MAX_BYTES // 1024 // 1024}
    if request.method == "GET":
        return render(request, "workbench/import.html", context)
    upload = request.FILES.get("file")
    dry_run = bool(request.POST.get("dry_run"))
    context["dry_run"] = dry_run
    try:
        if upload is None:
            raise ValidationError(
                "workbench.import_file", "请选择要导入的文件。", "Choose a file.", field="file"
            )
        if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
            raise ValidationError(
                "catalog_import.file_too_large",
                f"文件超过{context['max_mb']} MB，请在服务器上用 zwfw import_items 导入。",
                "The file is too large for the page.",
                field="file",
            )
        report = importing.import_file(
            upload.read(),
            upload.name or "upload",
            user=request.user,
            dry_run=dry_run,
            max_rows=IMPORT_MAX_ROWS,
        )
    except ZwfwError as error:
        context["error"] = error.message
        context["error_details"] = presentation.error_lines(error)
        return render(request, "workbench/import.html", context, status=error.http_status)
    context["report"] = report.as_dict()
    return render(request, "workbench/import.html", context)
