"""Case handling services: the only code that changes cases (SPEC §7).

Every function here runs in one transaction, locks the case row first (``select_for_update``:
two clerks acting at once are serialised, the second sees the first's result), checks the
actor's right to act, writes an audit record and a :class:`CaseEvent`, and queues notifications
on commit. Functions raise :class:`~zwfw.core.errors.ValidationError` for bad input,
:class:`~zwfw.core.errors.PermissionDenied` when the actor may not act, :class:`Conflict` when
the case is not in a state that allows the action; nothing is changed when they raise.

Lifecycle (statuses in :class:`CaseStatus`)::

    draft ─submit→ submitted ─accept→ in_progress ─(review … decide)→ closed
                      │  └─refuse→ refused          │ ├─correction→ correction ─resubmit→ …
                      └─correction→ correction      │ ├─special procedure→ special ─end→ in_progress
                                                     │ └─suspend→ suspended ─resume→ in_progress
    any open status before the decision ─withdraw→ withdrawn
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from zwfw.cases import clock, engine
from zwfw.cases.models import (
    ApplicantKind,
    Case,
    CaseEvent,
    CaseMaterial,
    CaseSequence,
    CaseStatus,
    CaseTask,
    CorrectionRequest,
    Decision,
    DeliveryMethod,
    MaterialSourceKind,
    Notice,
    SpecialProcedure,
    StoredFile,
    SubmitChannel,
    TaskKind,
)
from zwfw.catalog.models import Item, ItemStatus
from zwfw.core import audit, codes
from zwfw.core import calendar as cal
from zwfw.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from zwfw.core.masking import mask_id_number, mask_name
from zwfw.core.pii import blind_index
from zwfw.identity.models import Company, User
from zwfw.organisations.models import Department, Role, StaffMembership

MAX_TEXT = 2000
ACTIONS_BY_KIND = {
    TaskKind.ACCEPT: ("accept", "refuse", "correction"),
    TaskKind.REVIEW: ("pass", "return", "correction"),
    TaskKind.DECIDE: ("approve", "reject", "return"),
    TaskKind.HANDLE: ("approve", "reject", "refuse", "correction"),
}


# --- small helpers ------------------------------------------------------------------------------


def actor_ref(user: Any) -> str:
    return f"user:{user.pk}" if getattr(user, "pk", None) else "system"


def _display(user: Any) -> str:
    return (getattr(user, "real_name", "") or getattr(user, "username", "") or "系统")[:64]


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return cal.local_date(_now())


def _text(value: str | None, field: str, *, required: bool = False, label: str = "") -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(
            "cases.reason_required",
            f"请填写{label or '理由'}。",
            f"{field} is required.",
            field=field,
        )
    if len(text) > MAX_TEXT:
        raise ValidationError(
            "cases.text_too_long",
            f"{label or field}不能超过{MAX_TEXT}个字。",
            f"{field} is longer than {MAX_TEXT} characters.",
            field=field,
        )
    return text


def _locked(case: Case) -> Case:
    """Re-read the case under a row lock (the state others may have changed meanwhile)."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("department", "process")
        .get(pk=case.pk)
    )


def _wrong_status(case: Case, action: str, allowed: Iterable[str]) -> Conflict:
    labels = "、".join(CaseStatus(s).label for s in allowed)
    return Conflict(
        "cases.wrong_status",
        f"办件当前状态为“{CaseStatus(case.status).label}”，不能{action}（仅{labels}时可以）。",
        f"The case is {case.status}; {action} needs one of {', '.join(allowed)}.",
        details={"status": case.status, "allowed": list(allowed)},
    )


def _require_status(case: Case, action: str, *allowed: str) -> None:
    if case.status not in allowed:
        raise _wrong_status(case, action, allowed)


def _event(
    case: Case,
    kind: str,
    step_name: str,
    *,
    actor: Any = None,
    action: str = CaseEvent.Action.OTHER,
    opinion: str = "",
    department: Department | None = None,
    started_at: dt.datetime | None = None,
    task: CaseTask | None = None,
    data: Mapping[str, Any] | None = None,
) -> CaseEvent:
    now = _now()
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        step_name=step_name,
        action=action,
        actor=actor_ref(actor) if actor is not None else "system",
        actor_name=_display(actor) if actor is not None else "系统",
        department=department,
        opinion=opinion,
        started_at=started_at or now,
        ended_at=now,
        task=task,
        data=dict(data or {}),
    )


def _audit(case: Case, verb: str, before: Any = None, after: Any = None, actor: Any = None) -> None:
    audit.record(
        f"cases:case:{verb}",
        "cases.case",
        case.pk,
        before=before,
        after={"number": case.number, **(after or {})},
        actor=actor_ref(actor) if actor is not None else None,
    )


def _save(case: Case, *fields: str) -> None:
    case.lock_version = F("lock_version") + 1
    case.save(update_fields=[*fields, "lock_version", "updated_at"])
    case.refresh_from_db(fields=["lock_version"])


def _notify(case: Case, template: str, context: Mapping[str, Any], dedupe: str) -> None:
    """In-site message to the applicant, plus SMS when a phone is known (both on commit)."""
    from zwfw.notifications.services import queue_message

    filled = {"item": case.item_name, "case_number": case.number or "", **context}
    queue_message(
        channel="site",
        recipient="",
        template_code=template,
        context=filled,
        user=case.applicant_user,
        dedupe_key=f"{dedupe}:site",
    )
    phone = case.contact_phone
    if phone:
        # A template without an SMS variant, or a phone the gateway would refuse: the in-site
        # message is the record; the case must not fail over a text message.
        with contextlib.suppress(ValidationError, NotFound):
            queue_message(
                channel="sms",
                recipient=phone,
                template_code=template,
                context=filled,
                user=case.applicant_user,
                dedupe_key=f"{dedupe}:sms",
            )


# --- permissions -----------------------------------------------------------------------------


def _acting_company(user: Any, acting_uscc: str | None) -> Company | None:
    if not acting_uscc:
        return None
    from zwfw.identity.services import acting_still_valid

    company = Company.objects.filter(uscc=acting_uscc).first()
    if company is None:
        raise NotFound("identity.company_unknown", "单位不存在。", "Unknown company.")
    auth = (
        None
        if company.legal_representative_id == user.pk
        else (
            company.authorisations.filter(agent_id=user.pk, revoked_at__isnull=True)
            .order_by("-id")
            .values_list("pk", flat=True)
            .first()
        )
    )
    if not acting_still_valid(user, {"uscc": acting_uscc, "authorisation_id": auth}):
        raise PermissionDenied(
            "identity.not_authorised",
            "您没有该单位有效的经办人授权。",
            "You hold no active authorisation for this company.",
        )
    return company


def is_applicant_side(user: Any, case: Case, acting_uscc: str | None = None) -> bool:
    """Whether ``user`` may see and act on ``case`` as its applicant.

    A person's own case: the person. A company's case: its legal representative or an agent
    authorised for the item, while acting for that company.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if case.company_id is None:
        return bool(case.applicant_user_id == user.pk)
    if not acting_uscc or case.company is None or case.company.uscc != acting_uscc:
        return False
    from zwfw.identity.services import agent_may_act

    return agent_may_act(user, case.company, case.implementation_code)


def staff_departments(user: Any, role: str | None = None) -> list[int]:
    """Ids of the departments where ``user`` holds ``role`` (any role when None)."""
    if not getattr(user, "is_authenticated", False):
        return []
    today = timezone.localdate()
    memberships = StaffMembership.objects.filter(user_id=user.pk).exclude(valid_until__lt=today)
    if role is not None:
        memberships = memberships.filter(role=role)
    return list(memberships.values_list("department_id", flat=True).distinct())


def _has_role(user: Any, role: str, department_id: int) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return department_id in staff_departments(user, role)


def _require_role(user: Any, role: str, department: Department, action: str) -> None:
    if not _has_role(user, role, department.pk):
        raise PermissionDenied(
            "cases.not_your_department",
            f"您不是{department.name}的{Role(role).label}，不能{action}。",
            f"You are not a {role} of department {department.pk}; cannot {action}.",
            details={"department": department.pk, "role": role},
        )


def _require_applicant(user: Any, case: Case, acting_uscc: str | None, action: str) -> None:
    if not is_applicant_side(user, case, acting_uscc):
        raise PermissionDenied(
            "cases.not_applicant",
            f"只有申请人（或其授权经办人）可以{action}。",
            f"Only the applicant (or an authorised agent) may {action}.",
        )


# --- applications (我要办) --------------------------------------------------------------------


def _published_item(item_code: str) -> Item:
    item = (
        Item.objects.select_related("current_version", "department", "division")
        .filter(implementation_code=item_code)
        .first()
    )
    if item is None:
        raise NotFound(
            "catalog.item_unknown", f"事项不存在：{item_code}", f"Unknown item {item_code}."
        )
    if item.status != ItemStatus.PUBLISHED or item.current_version is None:
        raise Conflict(
            "cases.item_not_published",
            "该事项未发布或已停止办理，不能申请。",
            "The item is not published; it cannot be applied for.",
        )
    return item


def prefill(user: Any, company: Company | None) -> dict[str, Any]:
    """Form values known from the applicant's profile (and the company record)."""
    values: dict[str, Any] = {
        "applicant_name": getattr(user, "real_name", ""),
        "contact_name": getattr(user, "real_name", ""),
        "contact_phone": getattr(user, "phone", ""),
        "email": getattr(user, "email", ""),
    }
    if company is not None:
        values.update(
            {
                "applicant_name": company.name,
                "uscc": company.uscc,
                "registered_address": company.registered_address,
                "legal_representative": company.legal_representative.real_name
                if company.legal_representative_id
                else "",
            }
        )
    return values


def create_draft(
    user: Any,
    item_code: str,
    *,
    acting_uscc: str | None = None,
    channel: str = SubmitChannel.ONLINE,
    clerk: Any = None,
    form_data: Mapping[str, Any] | None = None,
) -> Case:
    """Start an application (a draft) for the item's current published version.

    ``user`` is the applicant (or the agent when ``acting_uscc`` is given); ``clerk`` is the
    window clerk applying on the person's behalf (J7). The item's minimum trust level applies
    to the applicant. Raises NotFound, Conflict (item not published), PermissionDenied
    (trust level, agent not authorised for this item).
    """
    from zwfw.identity.services import agent_may_act, require_trust_for_item

    item = _published_item(item_code)
    version = item.current_version
    assert version is not None  # _published_item refuses items without one
    require_trust_for_item(user, item)
    company = _acting_company(user, acting_uscc)
    content = version.content
    targets = set(content.get("targets", []))
    if company is not None:
        if not agent_may_act(user, company, item.implementation_code, item.basic_code):
            raise PermissionDenied(
                "cases.agent_scope",
                "您的经办人授权不包括该事项。",
                "Your agent authorisation does not cover this item.",
            )
        if targets and not targets - {codes.ServiceTarget.NATURAL_PERSON.value}:
            raise ValidationError(
                "cases.target_mismatch",
                "该事项只面向自然人，不能以单位名义申请。",
                "This item serves natural persons only.",
            )
    elif targets and codes.ServiceTarget.NATURAL_PERSON.value not in targets:
        raise ValidationError(
            "cases.target_mismatch",
            "该事项只面向法人，请切换到“代表单位办理”后申请。",
            "This item serves legal persons only; act for your company first.",
        )
    if clerk is not None:
        _require_role(clerk, Role.CLERK, item.department, "代为申请")
    if channel not in SubmitChannel.values:
        raise ValidationError(
            "cases.channel", "申报来源无效。", "Unknown channel.", field="channel"
        )
    limit = content.get("promised_time_limit") or content.get("legal_time_limit") or {}
    names = {f["name"] for f in form_definition(content)}
    data = {k: v for k, v in prefill(user, company).items() if k in names and v}
    data.update(_clean_form(content, form_data or {}, partial=True))
    with transaction.atomic():
        case = Case.objects.create(
            status=CaseStatus.DRAFT,
            item=item,
            item_version=version,
            item_name=item.name,
            implementation_code=item.implementation_code,
            case_type=content.get("case_type", codes.CaseType.PROMISED),
            department=item.department,
            division_code=item.division.code,
            applicant_kind=ApplicantKind.COMPANY if company else ApplicantKind.PERSON,
            applicant_user=user if company is None else company.legal_representative,
            company=company,
            agent=user if company is not None else clerk,
            applicant_name=company.name if company else (user.real_name or "")[:200],
            applicant_id_type=codes.IdentityDocumentType.USCC.value
            if company
            else (user.id_type or "111"),
            applicant_id_number=company.uscc if company else (user.id_number or ""),
            contact_name=(user.real_name or "")[:64],
            contact_phone=user.phone or "",
            legal_representative=(
                company.legal_representative.real_name if company is not None else ""
            )[:64],
            form_data=json.dumps(data, ensure_ascii=False),
            channel=channel,
            limit_days=int(limit.get("value", 0) or 0),
            limit_unit=clock.unit_of(str(limit.get("unit", "1"))),
        )
        _audit(
            case,
            "create",
            after={"item": item.implementation_code, "company": company.uscc if company else None},
            actor=clerk or user,
        )
    return case


def form_definition(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The item version's application form (``application_form`` in its content), or a default.

    A field is ``{name, label, type (text|textarea|number|date|select|checkbox|phone|idcard),
    required, options, max_length, prefill}``.
    """
    fields = content.get("application_form")
    if fields:
        return list(fields)
    return [
        {"name": "applicant_name", "label": "申请人名称", "type": "text", "required": True},
        {"name": "contact_name", "label": "联系人", "type": "text", "required": True},
        # Not required: someone served at a window may have no mobile phone (J7).
        {"name": "contact_phone", "label": "联系电话", "type": "phone", "required": False},
        {"name": "address", "label": "通讯地址", "type": "text", "required": False},
        {"name": "postcode", "label": "邮政编码", "type": "text", "required": False},
        {"name": "reason", "label": "申请事由", "type": "textarea", "required": False},
    ]


def _clean_form(  # noqa: PLR0912 (one branch per field type)
    content: Mapping[str, Any], values: Mapping[str, Any], *, partial: bool
) -> dict[str, Any]:
    """Check form values against the form definition; every problem in one error."""
    from zwfw.core.validators import validate_mobile

    fields = {f["name"]: f for f in form_definition(content)}
    errors: list[dict[str, str]] = []
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            errors.append(
                {"field": name, "code": "cases.form_unknown_field", "message": "未知字段"}
            )
            continue
        kind = field.get("type", "text")
        if value in (None, ""):
            cleaned[name] = ""
            continue
        if kind == "number":
            try:
                cleaned[name] = float(value) if "." in str(value) else int(value)
            except (TypeError, ValueError):
                errors.append({"field": name, "code": "cases.form_number", "message": "应为数字"})
            continue
        if kind == "checkbox":
            cleaned[name] = bool(value)
            continue
        text = str(value).strip()
        limit = int(field.get("max_length", 500))
        if len(text) > limit:
            errors.append(
                {"field": name, "code": "cases.form_too_long", "message": f"不能超过{limit}个字"}
            )
            continue
        if kind == "phone":
            try:
                text = validate_mobile(text)
            except ValidationError as exc:
                errors.append({"field": name, "code": exc.code, "message": exc.message})
                continue
        if kind == "date":
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                errors.append(
                    {"field": name, "code": "cases.form_date", "message": "日期格式应为YYYY-MM-DD"}
                )
                continue
        if kind == "select" and field.get("options") and text not in field["options"]:
            errors.append({"field": name, "code": "cases.form_option", "message": "不是可选值"})
            continue
        cleaned[name] = text
    if not partial:
        merged = {**values}
        for name, field in fields.items():
            if field.get("required") and merged.get(name) in (None, ""):
                errors.append(
                    {"field": name, "code": "cases.form_required", "message": "必填项未填写"}
                )
    if errors:
        raise ValidationError(
            "cases.form_invalid",
            "申请表有"
            + str(len(errors))
            + "处需要修改："
            + "；".join(
                f"{fields.get(e['field'], {}).get('label', e['field'])}{e['message']}"
                for e in errors
            ),
            f"The application form has {len(errors)} problem(s).",
            details={"errors": errors},
        )
    return cleaned


def form_values(case: Case) -> dict[str, Any]:
    return json.loads(case.form_data) if case.form_data else {}


def update_draft(
    user: Any, case: Case, form_data: Mapping[str, Any], *, acting_uscc: str | None = None
) -> Case:
    """Save form values on a draft (or on a case waiting for correction)."""
    with transaction.atomic():
        case = _locked(case)
        _require_applicant(user, case, acting_uscc, "修改申请")
        _require_status(case, "修改申请表", CaseStatus.DRAFT, CaseStatus.CORRECTION)
        values = form_values(case)
        values.update(_clean_form(case.item_version.content, form_data, partial=True))
        case.form_data = json.dumps(values, ensure_ascii=False)
        _apply_contact(case, values)
        _save(case, "form_data", "contact_name", "contact_phone", "address", "postcode")
        _audit(case, "update_form", after={"fields": sorted(form_data)}, actor=user)
    return case


def _apply_contact(case: Case, values: Mapping[str, Any]) -> None:
    if values.get("contact_name"):
        case.contact_name = str(values["contact_name"])[:64]
    if values.get("contact_phone"):
        case.contact_phone = str(values["contact_phone"])
    if values.get("address"):
        case.address = str(values["address"])
    if values.get("postcode"):
        case.postcode = str(values["postcode"])[:6]


def _checklist_entry(case: Case, index: int | None) -> dict[str, Any] | None:
    if index is None:
        return None
    materials = case.item_version.content.get("materials", [])
    if not 0 <= index < len(materials):
        raise ValidationError(
            "cases.material_index",
            f"材料序号{index}不在该事项的材料清单中（共{len(materials)}项）。",
            f"Material index {index} is not in the item's checklist.",
            field="checklist_index",
        )
    return dict(materials[index])


def _material_editable(case: Case, index: int | None) -> None:
    _require_status(case, "提交材料", CaseStatus.DRAFT, CaseStatus.CORRECTION, CaseStatus.SUBMITTED)
    if case.status == CaseStatus.CORRECTION and index is not None:
        # During a correction only the materials named in the notice may change.
        open_request = case.corrections.filter(resolved_at__isnull=True).order_by("-id").first()
        named = {i.get("checklist_index") for i in (open_request.items if open_request else [])}
        if index not in named and None not in named:
            raise Conflict(
                "cases.material_not_in_correction",
                "补正期间只能修改补正告知书列出的材料。",
                "During a correction only the materials named in the notice may change.",
            )


def _supersede(case: Case, index: int | None) -> None:
    if index is not None:
        case.materials.filter(checklist_index=index).exclude(
            status=CaseMaterial.Status.SUPERSEDED
        ).update(status=CaseMaterial.Status.SUPERSEDED)


def add_material_upload(
    user: Any,
    case: Case,
    *,
    checklist_index: int | None,
    name: str,
    data: bytes,
    acting_uscc: str | None = None,
    copy_level: str = "",
) -> CaseMaterial:
    """Upload a file for one entry of the materials checklist (replaces an earlier one).

    The file is checked and virus-scanned before the case row is locked: a scan is a network
    call (clamd), and the lock would hold every other action on the case meanwhile.
    """
    from zwfw.cases import files

    def check(current: Case) -> None:
        if current.agent_id and user.pk == current.agent_id and current.company_id is None:
            return  # the window clerk scanning the person's paper materials (J7)
        _require_applicant(user, current, acting_uscc, "上传材料")

    check(case)
    _material_editable(case, checklist_index)
    label = (_checklist_entry(case, checklist_index) or {}).get("name") or files.clean_filename(
        name
    )
    stored = files.store_upload(
        owner=case.applicant_user,
        company=case.company,
        name=name,
        data=data,
        material_name=label,
        copy_level=copy_level,
    )
    with transaction.atomic():
        case = _locked(case)
        check(case)
        _material_editable(case, checklist_index)
        return _attach(
            case,
            user,
            checklist_index,
            label,
            "add_material",
            source=MaterialSourceKind.UPLOAD,
            file=stored,
        )


def _attach(
    case: Case, user: Any, index: int | None, label: str, verb: str, **fields: Any
) -> CaseMaterial:
    """The new current material of a checklist entry (the earlier one superseded), audited."""
    _supersede(case, index)
    material = CaseMaterial.objects.create(
        case=case, checklist_index=index, name=label[:200], added_by=actor_ref(user), **fields
    )
    stored = fields.get("file")
    after = {"material": label, "file": stored.sha if stored else None}
    if fields.get("licence_identifier"):
        after["licence"] = fields["licence_identifier"]
    _audit(case, verb, after=after, actor=user)
    return material


def reuse_material(
    user: Any,
    case: Case,
    *,
    checklist_index: int | None,
    stored_file_id: int,
    acting_uscc: str | None = None,
) -> CaseMaterial:
    """Use a clean file from the applicant's material library instead of uploading it again."""
    from zwfw.cases import files

    with transaction.atomic():
        case = _locked(case)
        _require_applicant(user, case, acting_uscc, "提交材料")
        _material_editable(case, checklist_index)
        stored = StoredFile.objects.filter(pk=stored_file_id).first()
        # may_use refuses files not (yet) scanned clean as well as other people's files.
        if stored is None or not files.may_use(user, stored, case.company):
            raise NotFound(
                "cases.file_unknown",
                "材料库中没有该文件（或尚未通过安全扫描）。",
                "No such usable file in your material library.",
                field="stored_file_id",
            )
        entry = _checklist_entry(case, checklist_index)
        label = (entry or {}).get("name") or stored.material_name or stored.original_name
        return _attach(
            case,
            user,
            checklist_index,
            label,
            "reuse_material",
            source=MaterialSourceKind.REUSE,
            file=stored,
        )


def reference_licence(
    user: Any,
    case: Case,
    *,
    checklist_index: int,
    licence_identifier: str,
    acting_uscc: str | None = None,
) -> CaseMaterial:
    """Name an electronic licence (证照标识) instead of uploading a copy (免提交).

    The checklist entry must accept a licence (``licence_type`` set in the catalogue) and the
    identifier must be a well-formed GB/T 36904 identifier with its check character. Naming a
    licence held in this node's library is 用证授权: the department may read it for this case
    (``zwfw.licences.use.grant_for_case_reference``; someone else's licence is refused).
    """
    from zwfw.licences.identifiers import parse_identifier
    from zwfw.licences.use import grant_for_case_reference

    identifier = parse_identifier((licence_identifier or "").strip()).text
    with transaction.atomic():
        case = _locked(case)
        _require_applicant(user, case, acting_uscc, "提交材料")
        _material_editable(case, checklist_index)
        entry = _checklist_entry(case, checklist_index) or {}
        if not entry.get("licence_type"):
            raise ValidationError(
                "cases.licence_not_accepted",
                f"材料“{entry.get('name', '')}”不能用电子证照代替。",
                "This material cannot be replaced by a licence.",
                field="checklist_index",
            )
        grant_for_case_reference(case, identifier)
        return _attach(
            case,
            user,
            checklist_index,
            str(entry.get("name", "")),
            "reference_licence",
            source=MaterialSourceKind.LICENCE,
            licence_identifier=identifier,
            licence_type=str(entry.get("licence_type", ""))[:32],
        )


def missing_materials(case: Case) -> list[dict[str, Any]]:
    """Required checklist entries with no current material."""
    present = set(
        case.materials.exclude(status=CaseMaterial.Status.SUPERSEDED).values_list(
            "checklist_index", flat=True
        )
    )
    missing = []
    for index, entry in enumerate(case.item_version.content.get("materials", [])):
        if entry.get("required", True) and index not in present:
            missing.append({"checklist_index": index, "material": entry.get("name", "")})
    return missing


# --- numbering -----------------------------------------------------------------------------------


def next_case_number(division_code: str, day: dt.date) -> str:
    """办件编号: division code (6 digits) + date (YYYYMMDD) + 6-digit daily sequence.

    The sequence row is incremented with an atomic UPDATE inside the caller's transaction, so
    concurrent submissions get distinct numbers and a rolled-back one frees nothing twice.
    """
    division = division_code[:6].ljust(6, "0")
    CaseSequence.objects.get_or_create(division_code=division, day=day)
    CaseSequence.objects.filter(division_code=division, day=day).update(last=F("last") + 1)
    last = CaseSequence.objects.filter(division_code=division, day=day).values_list(
        "last", flat=True
    )[0]
    if last > 999_999:
        raise Conflict("cases.sequence_exhausted", "当日办件编号已用尽。", "Sequence exhausted.")
    return f"{division}{day:%Y%m%d}{last:06d}"


def _query_hash(number: str, password: str) -> str:
    return blind_index(password, purpose=f"case-query:{number}")


def _new_query_password() -> str:
    return f"{secrets.randbelow(10**6):06d}"


# --- workflow glue --------------------------------------------------------------------------------


def _workflow_data(case: Case) -> dict[str, Any]:
    content = case.item_version.content
    return {
        "case_type": case.case_type,
        "joint_departments": list(content.get("joint_departments", [])),
        "applicant_kind": case.applicant_kind,
        "channel": case.channel,
    }


def _runner(case: Case) -> engine.Runner:
    assert case.process is not None
    if case.workflow_state is None:
        return engine.start(case.process, _workflow_data(case), service_context=case)
    return engine.restore(case.process, case.workflow_state, service_context=case)


_department_cache: dict[str, int | None] = {}


def _resolve_department(case: Case, ref: str, data: Mapping[str, Any]) -> Department:
    """A task's department: the item's own, a name / USCC / id, or ``$variable`` of the data."""
    value = ref
    if ref.startswith("$"):
        value = str(data.get(ref[1:], "") or "")
    value = value.strip()
    if not value:
        return case.department
    found = (
        Department.objects.filter(uscc=value).first()
        or Department.objects.filter(name=value).first()
        or (Department.objects.filter(pk=int(value)).first() if value.isdigit() else None)
    )
    return found or case.department


def _role_for(meta: Mapping[str, Any]) -> str:
    role = str(meta.get("role") or "")
    if role in Role.values:
        return role
    return engine.DEFAULT_ROLE.get(str(meta.get("kind")), Role.REVIEWER)


def _sync_tasks(case: Case, runner: engine.Runner) -> list[CaseTask]:
    """Mirror the workflow's ready user tasks as CaseTask rows; cancel rows no longer ready."""
    ready = runner.ready_user_tasks()
    ready_ids = {t.id for t in ready}
    open_rows = {row.spiff_id: row for row in case.tasks.filter(status=CaseTask.Status.OPEN)}
    for spiff_id, row in open_rows.items():
        if spiff_id not in ready_ids:
            row.status = CaseTask.Status.CANCELLED
            row.completed_at = _now()
            row.save(update_fields=["status", "completed_at"])
    created = []
    calendar = cal.calendar_snapshot()
    today = _today()
    for task in ready:
        if task.id in open_rows:
            continue
        meta = runner.meta.get(task.task_spec.bpmn_id, {})
        kind = str(meta.get("kind") or "review")
        if kind not in TaskKind.values:
            kind = TaskKind.REVIEW
        limit = meta.get("time_limit")
        due = calendar.add_working_days(today, int(limit)) if limit is not None else None
        row = CaseTask(
            case=case,
            spiff_id=task.id,
            bpmn_id=task.task_spec.bpmn_id,
            name=str(meta.get("name") or task.task_spec.bpmn_name or task.task_spec.bpmn_id)[:200],
            kind=kind,
            department=_resolve_department(case, str(meta.get("department") or ""), task.data),
            role=_role_for(meta),
            created_at=_now(),
            due_date=due,
        )
        created.append(row)
    if created:
        CaseTask.objects.bulk_create(created)
    return created


def _store_workflow(case: Case, runner: engine.Runner) -> None:
    case.workflow_state = runner.dump_text()


def _task_for_update(task_id: int) -> CaseTask:
    task = CaseTask.objects.select_related("case", "department").filter(pk=task_id).first()
    if task is None:
        raise NotFound("cases.task_unknown", "待办任务不存在。", "Unknown task.")
    return task


# --- submission -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    case: Case
    query_password: str


def submit(user: Any, case: Case, *, acting_uscc: str | None = None) -> Submission:
    """Submit a draft: check the form and the required materials, number the case, start
    its process. Returns the query password (shown once; only its hash is kept).

    Raises ValidationError (``cases.form_invalid``, ``cases.materials_missing``), Conflict
    (not a draft — e.g. a second submission), PermissionDenied.
    """
    from zwfw.cases import processes

    with transaction.atomic():
        case = _locked(case)
        if not (
            is_applicant_side(user, case, acting_uscc)
            or (case.agent_id == getattr(user, "pk", None) and case.channel == SubmitChannel.WINDOW)
        ):
            raise PermissionDenied(
                "cases.not_applicant",
                "只有申请人（或其授权经办人）可以提交申请。",
                "Only the applicant may submit.",
            )
        _require_status(case, "提交", CaseStatus.DRAFT)
        content = case.item_version.content
        _clean_form(content, form_values(case), partial=False)
        missing = missing_materials(case)
        if missing:
            raise ValidationError(
                "cases.materials_missing",
                "还缺少必要材料：" + "、".join(m["material"] for m in missing),
                f"{len(missing)} required material(s) missing.",
                details={"missing": missing},
            )
        now = _now()
        case.number = next_case_number(case.division_code, cal.local_date(now))
        password = _new_query_password()
        case.query_password_hash = _query_hash(case.number, password)
        case.submitted_at = now
        case.status = CaseStatus.SUBMITTED
        case.process = processes.resolve_process(case.item, content)
        _event(case, "submit", "申请", actor=user, action=CaseEvent.Action.PASS)
        if case.process.has_accept_task:
            runner = _runner(case)
            _store_workflow(case, runner)
            _sync_tasks(case, runner)
        _save(
            case,
            "number",
            "query_password_hash",
            "submitted_at",
            "status",
            "process",
            "workflow_state",
        )
        _audit(case, "submit", after={"status": case.status}, actor=user)
        _notify(
            case,
            "case.submitted",
            {"query_password": password},
            dedupe=f"case:{case.pk}:submitted",
        )
    return Submission(case, password)


def withdraw(user: Any, case: Case, reason: str, *, acting_uscc: str | None = None) -> Case:
    """撤回: the applicant withdraws before the decision."""
    reason = _text(reason, "reason", required=True, label="撤回理由")
    with transaction.atomic():
        case = _locked(case)
        _require_applicant(user, case, acting_uscc, "撤回申请")
        _require_status(
            case,
            "撤回",
            CaseStatus.DRAFT,
            CaseStatus.SUBMITTED,
            CaseStatus.CORRECTION,
            CaseStatus.IN_PROGRESS,
            CaseStatus.SPECIAL,
            CaseStatus.SUSPENDED,
        )
        if case.decision:
            raise Conflict(
                "cases.already_decided",
                "已作出决定的办件不能撤回。",
                "A decided case cannot be withdrawn.",
            )
        before = case.status
        case.status = CaseStatus.WITHDRAWN
        case.withdrawn_at = _now()
        if case.paused_since is not None:
            clock.resume(case, _today())
        _cancel_open_tasks(case)
        _event(case, "withdraw", "撤回", actor=user, opinion=reason)
        _save(case, "status", "withdrawn_at", "paused_days", "paused_since", "pause_reason")
        _audit(case, "withdraw", before={"status": before}, after={"reason": reason}, actor=user)
    return case


def _cancel_open_tasks(case: Case) -> None:
    case.tasks.filter(status=CaseTask.Status.OPEN).update(
        status=CaseTask.Status.CANCELLED, completed_at=_now()
    )


# --- acceptance (受理) -------------------------------------------------------------------------


def _open_task_of_kind(case: Case, *kinds: str) -> CaseTask | None:
    return case.tasks.filter(status=CaseTask.Status.OPEN, kind__in=kinds).order_by("id").first()


def _acceptance_actor_check(actor: Any, case: Case, action: str) -> CaseTask | None:
    task = _open_task_of_kind(case, TaskKind.ACCEPT, TaskKind.HANDLE)
    department = task.department if task is not None else case.department
    role = task.role if task is not None else Role.CLERK
    _require_role(actor, role, department, action)
    if task is not None and task.assignee_id and task.assignee_id != actor.pk:
        raise Conflict(
            "cases.task_claimed",
            "该任务已由其他工作人员签收。",
            "Another staff member has claimed this task.",
        )
    return task


def accept(actor: Any, case: Case, *, opinion: str = "") -> Case:
    """受理: start the clock, issue the 受理通知书. For a 即办件 the handling task follows."""
    opinion = _text(opinion, "opinion", label="受理意见")
    with transaction.atomic():
        case = _locked(case)
        _require_status(case, "受理", CaseStatus.SUBMITTED)
        task = _acceptance_actor_check(actor, case, "受理")
        now = _now()
        case.status = CaseStatus.IN_PROGRESS
        case.accepted_at = now
        case.accepted_by = _display(actor)
        clock.start(case, cal.local_date(now))
        runner = _runner(case)
        if task is not None and task.kind == TaskKind.ACCEPT:
            _finish_task(task, actor, "accept", opinion)
            runner.complete(task.spiff_id, {"outcome": "accept", "accepted": True})
        _event(
            case,
            "accept",
            task.name if task else "受理",
            actor=actor,
            action=CaseEvent.Action.PASS,
            opinion=opinion,
            department=task.department if task else case.department,
            task=task,
        )
        _after_workflow_step(case, runner, actor)
        notice = _issue_notice(
            case,
            Notice.Kind.ACCEPTANCE,
            {
                "accepted_at": now.isoformat(),
                "due_date": _iso(case.due_date),
            },
        )
        case.acceptance_notice_no = notice.number if notice else ""
        _save(
            case,
            "status",
            "accepted_at",
            "accepted_by",
            "clock_start",
            "paused_days",
            "paused_since",
            "due_date",
            "workflow_state",
            "acceptance_notice_no",
            "decision",
            "decided_at",
            "closed_at",
            "closed_by",
            "decision_reason",
        )
        _audit(
            case,
            "accept",
            before={"status": "submitted"},
            after={"due": case.due_date},
            actor=actor,
        )
        _notify(
            case,
            "case.accepted",
            {"due_date": _iso(case.due_date) or "当场办结"},
            dedupe=f"case:{case.pk}:accepted",
        )
    return case


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def refuse(actor: Any, case: Case, reason: str) -> Case:
    """不予受理 (reason required): the case ends; a 不予受理通知书 is issued."""
    reason = _text(reason, "reason", required=True, label="不予受理理由")
    with transaction.atomic():
        case = _locked(case)
        _require_status(case, "不予受理", CaseStatus.SUBMITTED)
        task = _acceptance_actor_check(actor, case, "作出不予受理")
        if task is not None:
            _finish_task(task, actor, "refuse", reason)
        _cancel_open_tasks(case)
        case.status = CaseStatus.REFUSED
        case.refusal_reason = reason
        case.closed_at = _now()
        case.closed_by = _display(actor)
        _event(
            case,
            "refuse",
            task.name if task else "受理",
            actor=actor,
            action=CaseEvent.Action.RETURN,
            opinion=reason,
            department=task.department if task else case.department,
            task=task,
        )
        _issue_notice(case, Notice.Kind.REFUSAL, {"reason": reason})
        _save(case, "status", "refusal_reason", "closed_at", "closed_by")
        _audit(
            case, "refuse", before={"status": "submitted"}, after={"reason": reason}, actor=actor
        )
        _notify(case, "case.refused", {"reason": reason}, dedupe=f"case:{case.pk}:refused")
    return case


# --- correction (补正, 一次性告知) ------------------------------------------------------------


def _clean_correction_items(case: Case, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    materials = case.item_version.content.get("materials", [])
    for position, item in enumerate(items):
        index = item.get("checklist_index")
        problem = _text(
            item.get("problem"), f"items.{position}.problem", required=True, label="问题"
        )
        name = str(item.get("material") or "").strip()
        if index is not None:
            if not isinstance(index, int) or not 0 <= index < len(materials):
                raise ValidationError(
                    "cases.material_index",
                    f"第{position + 1}项的材料序号不在材料清单中。",
                    f"items.{position}.checklist_index is not in the checklist.",
                    field=f"items.{position}.checklist_index",
                )
            name = name or str(materials[index].get("name", ""))
        if not name:
            raise ValidationError(
                "cases.correction_material",
                f"第{position + 1}项须写明材料名称。",
                f"items.{position} needs a material name or checklist index.",
                field=f"items.{position}.material",
            )
        cleaned.append({"checklist_index": index, "material": name[:200], "problem": problem})
    if not cleaned:
        raise ValidationError(
            "cases.correction_empty",
            "补正告知须一次性列明所有需补正的材料（至少一项）。",
            "A correction notice must list every material to correct (at least one).",
            field="items",
        )
    return cleaned


CORRECTION_WORKING_DAYS = 10


def request_correction(
    actor: Any,
    case: Case,
    items: Iterable[Mapping[str, Any]],
    note: str = "",
    *,
    deadline: dt.date | None = None,
) -> CorrectionRequest:
    """补正告知: list *every* missing or wrong material at once; the clock pauses.

    Allowed at acceptance (by the accepting clerk; the clock has not started) and during
    handling (by whoever holds an open task of the case; the clock stops until resubmission).
    """
    note = _text(note, "note", label="补正说明")
    with transaction.atomic():
        case = _locked(case)
        _require_status(case, "要求补正", CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS)
        cleaned = _clean_correction_items(case, items)
        if case.status == CaseStatus.SUBMITTED:
            _acceptance_actor_check(actor, case, "要求补正")
            during_acceptance = True
        else:
            _require_any_open_task_role(actor, case, "要求补正")
            during_acceptance = False
        now = _now()
        today = cal.local_date(now)
        if deadline is None:
            deadline = cal.add_working_days(today, CORRECTION_WORKING_DAYS)
        elif deadline <= today:
            raise ValidationError(
                "cases.correction_deadline",
                "补正期限应晚于今天。",
                "The correction deadline must be after today.",
                field="deadline",
            )
        request = CorrectionRequest.objects.create(
            case=case,
            items=cleaned,
            note=note,
            requested_by=actor_ref(actor),
            requested_at=now,
            during_acceptance=during_acceptance,
        )
        for entry in cleaned:
            if entry["checklist_index"] is not None:
                case.materials.filter(
                    checklist_index=entry["checklist_index"],
                    status__in=[CaseMaterial.Status.SUBMITTED, CaseMaterial.Status.ACCEPTED],
                ).update(status=CaseMaterial.Status.NEEDS_CORRECTION, note=entry["problem"][:500])
        before = case.status
        case.status = CaseStatus.CORRECTION
        clock.pause(case, cal.local_date(now), "correction")
        _event(
            case,
            "correction",
            "补正告知",
            actor=actor,
            action=CaseEvent.Action.RETURN,
            opinion=note,
            data={
                "items": cleaned,
                "during_acceptance": during_acceptance,
                "deadline": deadline.isoformat(),
            },
        )
        _issue_notice(
            case,
            Notice.Kind.CORRECTION,
            {"items": cleaned, "note": note, "deadline": deadline.isoformat()},
        )
        _save(case, "status", "paused_since", "pause_reason")
        _audit(
            case,
            "request_correction",
            before={"status": before},
            after={"items": cleaned},
            actor=actor,
        )
        _notify(
            case,
            "case.correction_requested",
            {
                "materials": "；".join(f"{i['material']}（{i['problem']}）" for i in cleaned),
                "deadline": deadline.isoformat(),
            },
            dedupe=f"case:{case.pk}:correction:{request.pk}",
        )
    return request


def _require_any_open_task_role(actor: Any, case: Case, action: str) -> None:
    for task in case.tasks.filter(status=CaseTask.Status.OPEN).select_related("department"):
        if _has_role(actor, task.role, task.department_id):
            return
    _require_role(actor, Role.REVIEWER, case.department, action)


def resubmit(user: Any, case: Case, *, acting_uscc: str | None = None) -> Case:
    """The applicant has corrected everything: back to acceptance or handling; the clock
    resumes with the days that were left."""
    with transaction.atomic():
        case = _locked(case)
        _require_applicant(user, case, acting_uscc, "提交补正材料")
        _require_status(case, "提交补正", CaseStatus.CORRECTION)
        request = case.corrections.filter(resolved_at__isnull=True).order_by("-id").first()
        if request is None:
            raise Conflict("cases.no_correction", "没有待补正的告知。", "Nothing to correct.")
        pending = [
            entry
            for entry in request.items
            if entry.get("checklist_index") is not None
            and not case.materials.filter(
                checklist_index=entry["checklist_index"],
                status=CaseMaterial.Status.SUBMITTED,
                added_at__gt=request.requested_at,
            ).exists()
        ]
        if pending:
            raise ValidationError(
                "cases.correction_incomplete",
                "以下材料尚未补正：" + "、".join(e["material"] for e in pending),
                f"{len(pending)} material(s) not yet corrected.",
                details={"pending": pending},
            )
        missing = missing_materials(case)
        if missing:
            raise ValidationError(
                "cases.materials_missing",
                "还缺少必要材料：" + "、".join(m["material"] for m in missing),
                f"{len(missing)} required material(s) missing.",
                details={"missing": missing},
            )
        now = _now()
        request.resolved_at = now
        request.save(update_fields=["resolved_at"])
        added = clock.resume(case, cal.local_date(now))
        case.status = CaseStatus.SUBMITTED if request.during_acceptance else CaseStatus.IN_PROGRESS
        _event(
            case,
            "resubmit",
            "补正材料提交",
            actor=user,
            action=CaseEvent.Action.PASS,
            data={"paused_days": added},
        )
        _save(case, "status", "paused_days", "paused_since", "pause_reason", "due_date")
        _audit(
            case,
            "resubmit",
            before={"status": "correction"},
            after={"status": case.status},
            actor=user,
        )
    return case


# --- tasks: claim, release, act -------------------------------------------------------------------


def claim(actor: Any, task: CaseTask) -> CaseTask:
    """签收: take an open task so that colleagues see it is being handled."""
    with transaction.atomic():
        case = _locked(task.case)
        task = CaseTask.objects.select_for_update().get(pk=task.pk)
        if task.status != CaseTask.Status.OPEN:
            raise Conflict("cases.task_closed", "该任务已办结或已取消。", "The task is not open.")
        _require_role(actor, task.role, task.department, "签收该任务")
        if task.assignee_id and task.assignee_id != actor.pk:
            raise Conflict(
                "cases.task_claimed",
                "该任务已由其他工作人员签收。",
                "Another staff member has claimed this task.",
            )
        task.assignee = actor
        task.save(update_fields=["assignee"])
        audit.record(
            "cases:task:claim",
            "cases.casetask",
            task.pk,
            after={"case": case.number},
            actor=actor_ref(actor),
        )
    return task


def release(actor: Any, task: CaseTask) -> CaseTask:
    """退签: give a claimed task back to the department queue."""
    with transaction.atomic():
        _locked(task.case)
        task = CaseTask.objects.select_for_update().get(pk=task.pk)
        if task.status != CaseTask.Status.OPEN or task.assignee_id is None:
            raise Conflict("cases.task_not_claimed", "该任务未被签收。", "The task is not claimed.")
        if task.assignee_id != actor.pk and not _has_role(
            actor, Role.DEPARTMENT_ADMIN, task.department_id
        ):
            raise PermissionDenied(
                "cases.not_assignee", "只能退回自己签收的任务。", "Only the assignee may release."
            )
        task.assignee = None
        task.save(update_fields=["assignee"])
        audit.record(
            "cases:task:release", "cases.casetask", task.pk, after={}, actor=actor_ref(actor)
        )
    return task


def _finish_task(
    task: CaseTask,
    actor: Any,
    outcome: str,
    opinion: str,
    checklist: list[dict[str, Any]] | None = None,
) -> None:
    task.status = CaseTask.Status.DONE
    task.outcome = outcome
    task.opinion = opinion
    task.completed_at = _now()
    task.completed_by = actor
    if checklist is not None:
        task.checklist = checklist
    task.save(
        update_fields=["status", "outcome", "opinion", "completed_at", "completed_by", "checklist"]
    )


def _clean_checklist(case: Case, checklist: Iterable[Mapping[str, Any]] | None) -> list[dict]:
    points = case.item_version.content.get("review_points") or []
    if checklist is None:
        return []
    ticked: list[dict[str, Any]] = []
    for position, entry in enumerate(checklist):
        index = entry.get("index")
        if not isinstance(index, int) or not 0 <= index < len(points):
            raise ValidationError(
                "cases.checklist_index",
                f"第{position + 1}个审查要点不在该事项的审查要点中。",
                f"checklist.{position}.index is not a review point of the item.",
                field=f"checklist.{position}.index",
            )
        ticked.append(
            {
                "index": index,
                "point": str(points[index])[:200],
                "ok": bool(entry.get("ok")),
                "note": _text(entry.get("note"), f"checklist.{position}.note"),
            }
        )
    return ticked


def act(  # noqa: PLR0912 (one branch per action kind)
    actor: Any,
    task: CaseTask,
    action: str,
    *,
    opinion: str = "",
    checklist: Iterable[Mapping[str, Any]] | None = None,
    reason: str = "",
    send_back_to: int | None = None,
) -> Case:
    """Act on an open task: the actions depend on its kind (:data:`ACTIONS_BY_KIND`).

    - accept task: ``accept`` / ``refuse`` (reason) / ``correction`` → the acceptance services;
    - review: ``pass`` (with the ticked review points), ``return`` (退回 to an earlier step);
    - decide: ``approve`` / ``reject`` (reason required) / ``return``;
    - handle (即办件): ``approve`` / ``reject`` close the case at once.

    Raises Conflict when the task is not open, was claimed by someone else, or the decision
    would come before every parallel review is done (the process does not offer it then);
    PermissionDenied when the actor lacks the task's role in the task's department.
    """
    if action not in ACTIONS_BY_KIND.get(TaskKind(task.kind), ()):
        raise ValidationError(
            "cases.action_unknown",
            f"“{task.name}”环节不能执行该操作：{action}",
            f"Action {action!r} is not possible on a {task.kind} task.",
            field="action",
            details={"allowed": list(ACTIONS_BY_KIND.get(TaskKind(task.kind), ()))},
        )
    if task.kind == TaskKind.ACCEPT or (task.kind == TaskKind.HANDLE and action == "refuse"):
        if action == "accept":
            return accept(actor, task.case, opinion=opinion)
        if action == "refuse":
            return refuse(actor, task.case, reason or opinion)
    if action == "correction":
        raise ValidationError(
            "cases.use_correction_endpoint",
            "请使用补正告知功能一次性列明所有需补正的材料。",
            "Use the correction request to list every material at once.",
        )
    opinion = _text(opinion, "opinion", label="意见")
    with transaction.atomic():
        case = _locked(task.case)
        task = (
            CaseTask.objects.select_for_update(of=("self",))
            .select_related("department")
            .get(pk=task.pk)
        )
        if task.status != CaseTask.Status.OPEN:
            raise Conflict("cases.task_closed", "该任务已办结或已取消。", "The task is not open.")
        _require_status(case, "办理", CaseStatus.IN_PROGRESS, CaseStatus.SUBMITTED)
        if case.status == CaseStatus.SUBMITTED and task.kind != TaskKind.HANDLE:
            raise _wrong_status(case, "办理", [CaseStatus.IN_PROGRESS])
        _require_role(actor, task.role, task.department, f"办理“{task.name}”")
        if task.assignee_id and task.assignee_id != actor.pk:
            raise Conflict(
                "cases.task_claimed",
                "该任务已由其他工作人员签收。",
                "Another staff member has claimed this task.",
            )
        ticked = _clean_checklist(case, checklist)
        if action == "return":
            return _send_back(case, task, actor, reason or opinion, send_back_to)
        runner = _runner(case)
        data: dict[str, Any] = {"outcome": action}
        if action in ("approve", "reject"):
            if action == "reject":
                reason = _text(reason or opinion, "reason", required=True, label="不予许可理由")
            data["decision"] = action
            case.decision = Decision.APPROVE if action == "approve" else Decision.REJECT
            case.decision_reason = reason or opinion
            case.decided_at = _now()
            if task.kind == TaskKind.HANDLE and case.accepted_at is None:
                now = _now()
                case.accepted_at = now
                case.accepted_by = _display(actor)
                clock.start(case, cal.local_date(now))
        _finish_task(task, actor, action, opinion or reason, ticked)
        runner.complete(task.spiff_id, data)
        _event(
            case,
            {"pass": "review", "approve": "decide", "reject": "decide"}[action],
            task.name,
            actor=actor,
            action=CaseEvent.Action.PASS if action != "reject" else CaseEvent.Action.OTHER,
            opinion=opinion or reason,
            department=task.department,
            started_at=task.created_at,
            task=task,
            data={"outcome": action, "checklist": ticked} if ticked else {"outcome": action},
        )
        if case.status == CaseStatus.SUBMITTED:
            case.status = CaseStatus.IN_PROGRESS
        _after_workflow_step(case, runner, actor)
        _save(
            case,
            "status",
            "decision",
            "decision_reason",
            "decided_at",
            "workflow_state",
            "closed_at",
            "closed_by",
            "accepted_at",
            "accepted_by",
            "clock_start",
            "due_date",
            "result_description",
        )
        _audit(case, f"task_{action}", after={"task": task.pk, "step": task.name}, actor=actor)
    return case


def _after_workflow_step(case: Case, runner: engine.Runner, actor: Any) -> None:
    """Store the state, mirror the tasks; when the process has ended, close the case."""
    _store_workflow(case, runner)
    _sync_tasks(case, runner)
    if runner.is_completed():
        _close(case, actor)


def _close(case: Case, actor: Any) -> None:
    """办结: the process has ended with a decision (the licence issue adds the result)."""
    if not case.decision:
        # A process that ended without a decide task: its last review passed.
        case.decision = Decision.APPROVE
        case.decided_at = _now()
    now = _now()
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    # The process has ended: nothing reads its state again (the history is in CaseEvent and
    # CaseTask), and keeping 4–8 KB per closed case would be gigabytes at a million cases.
    case.workflow_state = None
    case.closed_by = _display(actor)
    approved = case.decision == Decision.APPROVE
    content = case.item_version.content
    case.result_description = (
        f"准予：{content.get('result_name') or case.item_name}"
        if approved
        else f"不予许可：{case.decision_reason}"
    )[:1000]
    _event(case, "close", "办结", actor=actor, action=CaseEvent.Action.PASS)
    _issue_notice(
        case,
        Notice.Kind.APPROVAL if approved else Notice.Kind.REJECTION,
        {
            "decision": case.decision,
            "reason": case.decision_reason,
            "result_name": content.get("result_name") or "",
        },
    )
    _notify(
        case,
        "case.closed",
        {"result": "准予" if approved else "不予许可"},
        dedupe=f"case:{case.pk}:closed",
    )
    from zwfw.licences.services import issue_for_case  # licences import cases: not at the top

    issue_for_case(case)  # 出证办结: the licence (zwfw.licences.services)


def _send_back(case: Case, task: CaseTask, actor: Any, reason: str, target_id: int | None) -> Case:
    """退回: re-open an earlier finished step; other parallel branches keep their results."""
    reason = _text(reason, "reason", required=True, label="退回理由")
    done = case.tasks.filter(status=CaseTask.Status.DONE).exclude(kind=TaskKind.ACCEPT)
    target = (
        done.filter(pk=target_id).first()
        if target_id is not None
        else done.order_by("-completed_at", "-id").first()
    )
    if target is None:
        raise ValidationError(
            "cases.send_back_target",
            "没有可退回的前序环节。",
            "There is no earlier step to send the case back to.",
            field="send_back_to",
        )
    meta = case.process.task_meta.get(target.bpmn_id, {}) if case.process else {}
    if meta.get("multi_instance_item"):
        raise Conflict(
            "cases.send_back_multi_instance",
            "会签/或签环节不能单独退回某一部门；请在该部门审查时选择不通过。",
            "A multi-instance step cannot be sent back for one department.",
        )
    runner = _runner(case)
    runner.workflow.reset_from_task_id(target.spiff_id)
    # A reset inside one parallel branch leaves the steps after the join that other branches
    # already made ready: they must wait again for the re-opened step.
    for ready in runner.ready_user_tasks():
        if ready.id != target.spiff_id:
            ready.cancel()
    runner.run_engine()
    task.status = CaseTask.Status.CANCELLED
    task.outcome = "return"
    task.opinion = reason
    task.completed_at = _now()
    task.completed_by = actor
    task.save(update_fields=["status", "outcome", "opinion", "completed_at", "completed_by"])
    if case.decision:
        case.decision = ""
        case.decided_at = None
    _event(
        case,
        "send_back",
        task.name,
        actor=actor,
        action=CaseEvent.Action.RETURN,
        opinion=reason,
        department=task.department,
        started_at=task.created_at,
        task=task,
        data={"to": target.name, "to_task": target.pk},
    )
    _store_workflow(case, runner)
    _sync_tasks(case, runner)
    _save(case, "workflow_state", "decision", "decided_at")
    _audit(
        case,
        "send_back",
        after={"from": task.name, "to": target.name, "reason": reason},
        actor=actor,
    )
    return case


# --- special procedures, suspension, transfer, delivery -------------------------------------------


def start_special_procedure(
    actor: Any, case: Case, *, kind: str, reason: str, expected_end: dt.date
) -> SpecialProcedure:
    """特别程序 (听证, 检验检测, 专家评审, 延长审批 …): the clock stops until it ends."""
    reason = _text(reason, "reason", required=True, label="特别程序理由")
    kind = codes.validate_code(codes.SpecialProcedureKind, kind, "kind")
    with transaction.atomic():
        case = _locked(case)
        _require_status(case, "启动特别程序", CaseStatus.IN_PROGRESS)
        _require_any_open_task_role(actor, case, "启动特别程序")
        today = _today()
        if expected_end < today:
            raise ValidationError(
                "cases.expected_end_past",
                "预计结束日期不能早于今天。",
                "expected_end is in the past.",
                field="expected_end",
            )
        now = _now()
        procedure = SpecialProcedure.objects.create(
            case=case,
            kind=kind,
            reason=reason,
            requested_by=_display(actor),
            started_at=now,
            expected_end=expected_end,
        )
        case.status = CaseStatus.SPECIAL
        clock.pause(case, today, "special")
        _event(
            case,
            "special_start",
            f"特别程序：{codes.label(codes.SpecialProcedureKind, kind)}",
            actor=actor,
            opinion=reason,
            data={"kind": kind, "expected_end": expected_end.isoformat()},
        )
        _save(case, "status", "paused_since", "pause_reason")
        _audit(
            case, "special_start", after={"kind": kind, "expected_end": expected_end}, actor=actor
        )
    return procedure


def end_special_procedure(actor: Any, case: Case, *, result: str, opinion: str = "") -> Case:
    result = _text(result, "result", required=True, label="特别程序结果")
    opinion = _text(opinion, "opinion", label="意见")
    with transaction.atomic():
        case = _locked(case)
        _require_status(case, "结束特别程序", CaseStatus.SPECIAL)
        _require_any_open_task_role(actor, case, "结束特别程序")
        procedure = case.special_procedures.filter(ended_at__isnull=True).order_by("-id").first()
        if procedure is None:
            raise Conflict("cases.no_special", "没有进行中的特别程序。", "No special procedure.")
        now = _now()
        procedure.ended_at = now
        procedure.result = result
        procedure.opinion = opinion
        procedure.save(update_fields=["ended_at", "result", "opinion"])
        added = clock.resume(case, cal.local_date(now))
        case.status = CaseStatus.IN_PROGRESS
        _event(
            case,
            "special_end",
            f"特别程序结束：{codes.label(codes.SpecialProcedureKind, procedure.kind)}",
            actor=actor,
            opinion=result,
            data={"paused_days": added},
        )
        _save(case, "status", "paused_days", "paused_since", "pause_reason", "due_date")
        _audit(case, "special_end", after={"result": result, "paused_days": added}, actor=actor)
    return case


def suspend(actor: Any, case: Case, reason: str) -> Case:
    """挂起 (e.g. awaiting a court ruling): the clock stops; only a department admin or a
    handler of the case may do it."""
    reason = _text(reason, "reason", required=True, label="挂起理由")
    with transaction.atomic():
        case = _locked(case)
        _require_status(case, "挂起", CaseStatus.IN_PROGRESS)
        _require_any_open_task_role(actor, case, "挂起办件")
        case.status = CaseStatus.SUSPENDED
        clock.pause(case, _today(), "suspended")
        _event(case, "suspend", "挂起", actor=actor, opinion=reason)
        _save(case, "status", "paused_since", "pause_reason")
        _audit(case, "suspend", after={"reason": reason}, actor=actor)
    return case


def resume(actor: Any, case: Case, opinion: str = "") -> Case:
    opinion = _text(opinion, "opinion", label="意见")
    with transaction.atomic():
        case = _locked(case)
        _require_status(case, "恢复", CaseStatus.SUSPENDED)
        _require_any_open_task_role(actor, case, "恢复办件")
        added = clock.resume(case, _today())
        case.status = CaseStatus.IN_PROGRESS
        _event(case, "resume", "恢复", actor=actor, opinion=opinion, data={"paused_days": added})
        _save(case, "status", "paused_days", "paused_since", "pause_reason", "due_date")
        _audit(case, "resume", after={"paused_days": added}, actor=actor)
    return case


def transfer(actor: Any, task: CaseTask, to_department: Department, reason: str) -> CaseTask:
    """转办: hand an open task to another department (same role there)."""
    reason = _text(reason, "reason", required=True, label="转办理由")
    with transaction.atomic():
        case = _locked(task.case)
        task = (
            CaseTask.objects.select_for_update(of=("self",))
            .select_related("department")
            .get(pk=task.pk)
        )
        if task.status != CaseTask.Status.OPEN:
            raise Conflict("cases.task_closed", "该任务已办结或已取消。", "The task is not open.")
        _require_role(actor, task.role, task.department, "转办")
        if to_department.pk == task.department_id:
            raise ValidationError(
                "cases.transfer_same",
                "不能转办给本部门。",
                "Cannot transfer to the same department.",
                field="department_id",
            )
        before = task.department
        task.department = to_department
        task.assignee = None
        task.save(update_fields=["department", "assignee"])
        _event(
            case,
            "transfer",
            f"转办：{task.name}",
            actor=actor,
            opinion=reason,
            department=before,
            data={"to": to_department.name, "to_id": to_department.pk},
        )
        _save(case)
        _audit(
            case,
            "transfer",
            before={"department": before.pk},
            after={"department": to_department.pk, "task": task.pk, "reason": reason},
            actor=actor,
        )
    return task


def choose_delivery(
    user: Any,
    case: Case,
    method: str,
    address: str = "",
    *,
    acting_uscc: str | None = None,
) -> Case:
    """送达方式: window pickup, post (address required) or electronic."""
    if method not in DeliveryMethod.values:
        raise ValidationError(
            "cases.delivery_method",
            "送达方式应为窗口领取、邮寄送达或电子送达。",
            "method must be window, post or electronic.",
            field="method",
        )
    address = _text(address, "address", required=method == DeliveryMethod.POST, label="邮寄地址")
    with transaction.atomic():
        case = _locked(case)
        _require_applicant(user, case, acting_uscc, "选择送达方式")
        if case.status in (CaseStatus.REFUSED, CaseStatus.WITHDRAWN):
            raise _wrong_status(case, "选择送达方式", list(CaseStatus.values)[:6])
        case.delivery_method = method
        case.delivery_address = address
        _save(case, "delivery_method", "delivery_address")
        _audit(case, "delivery", after={"method": method}, actor=user)
    return case


# --- notices, reminders, clock maintenance --------------------------------------------------------


def _issue_notice(case: Case, kind: str, facts: Mapping[str, Any]) -> Notice | None:
    from zwfw.cases import notices

    content = case.item_version.content
    base = {
        "case_number": case.number,
        "item_name": case.item_name,
        "applicant_name": case.applicant_name,
        "department": case.department.name,
        "accepted_at": case.accepted_at.isoformat() if case.accepted_at else None,
        "due_date": _iso(case.due_date),
        "reconsideration": content.get("reconsideration") or {},
        "litigation": content.get("litigation") or {},
    }
    if kind in RATED_NOTICES:
        # One QR code on the paper: rate the service without logging in (一次一评 at
        # acceptance, 一事一评 once decided) — the page also leads to the progress lookup.
        from zwfw.ratings.services import rating_url_for_case

        base["qr_url"] = rating_url_for_case(case)
        base["qr_caption"] = "扫码评价服务、查询办理进度"
    base.update(facts)
    return notices.issue_notice(case, kind, base, defer=True)


#: Notices that carry a rating QR code (the ones an applicant takes away at the end of a step).
RATED_NOTICES = frozenset(
    {Notice.Kind.ACCEPTANCE, Notice.Kind.REFUSAL, Notice.Kind.APPROVAL, Notice.Kind.REJECTION}
)


def remind_open_tasks(case: Case) -> int:
    """Site messages to the holders of a case's open tasks (timer-driven reminder)."""
    from zwfw.notifications.services import queue_message

    sent = 0
    for task in case.tasks.filter(status=CaseTask.Status.OPEN).select_related("assignee"):
        if task.assignee is None:
            continue
        queue_message(
            channel="site",
            recipient="",
            template_code="case.task_reminder",
            context={"case_number": case.number or "", "item": case.item_name, "step": task.name},
            user=task.assignee,
            dedupe_key=f"case:{case.pk}:remind:{task.pk}:{_today():%Y%m%d}",
        )
        sent += 1
    return sent


def remind_due_tasks(today: dt.date | None = None) -> int:
    """Daily sweep: fire due BPMN timers, and remind the holders of steps whose own time
    limit ends today or has passed (once per task and day). Returns the reminders queued."""
    from zwfw.notifications.services import queue_message

    today = today or _today()
    _fire_timers()
    sent = 0
    due = (
        CaseTask.objects.filter(status=CaseTask.Status.OPEN, due_date__lte=today)
        .select_related("case", "assignee")
        .order_by("id")
    )
    for task in due.iterator(chunk_size=500):
        recipients = (
            [task.assignee]
            if task.assignee is not None
            else list(
                User.objects.filter(
                    staff_memberships__department_id=task.department_id,
                    staff_memberships__role=task.role,
                    is_active=True,
                )[:20]
            )
        )
        for user in recipients:
            queue_message(
                channel="site",
                recipient="",
                template_code="case.task_reminder",
                context={
                    "case_number": task.case.number or "",
                    "item": task.case.item_name,
                    "step": task.name,
                },
                user=user,
                dedupe_key=f"case-task:{task.pk}:remind:{user.pk}:{today:%Y%m%d}",
            )
            sent += 1
    return sent


def _fire_timers() -> int:
    """Let due BPMN timer events of open cases fire (only processes that have timers)."""
    from zwfw.cases.models import ProcessDefinition

    with_timers = list(
        ProcessDefinition.objects.filter(bpmn_xml__contains="timerEventDefinition").values_list(
            "pk", flat=True
        )
    )
    if not with_timers:
        return 0
    fired = 0
    candidates = Case.objects.filter(
        process_id__in=with_timers, status=CaseStatus.IN_PROGRESS
    ).values_list("pk", flat=True)
    for pk in candidates.iterator(chunk_size=500):
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).select_related("process").get(pk=pk)
            if case.workflow_state is None or case.status != CaseStatus.IN_PROGRESS:
                continue
            runner = _runner(case)
            before = runner.dump_text()
            runner.workflow.refresh_timers()
            runner.run_engine()
            if runner.dump_text() != before:
                _after_workflow_step(case, runner, None)
                _save(case, "workflow_state", "status", "closed_at", "closed_by")
                fired += 1
    return fired


def recompute_due_dates(batch: int = 2000) -> int:
    """Refresh ``due_date`` of every open, started case (after the holiday table changed).

    Returns the number of cases whose due date moved. Batched by primary key; each batch is
    one transaction.
    """
    calendar = cal.calendar_snapshot()
    changed = 0
    last = 0
    while True:
        with transaction.atomic():
            rows = list(
                Case.objects.select_for_update()
                .filter(pk__gt=last, clock_start__isnull=False, closed_at__isnull=True)
                .order_by("pk")[:batch]
            )
            if not rows:
                return changed
            moved = [row for row in rows if clock.recompute(row, calendar=calendar)]
            if moved:
                Case.objects.bulk_update(moved, ["due_date"])
                audit.record(
                    "cases:case:recompute_due",
                    "cases.case",
                    "",
                    after={"count": len(moved), "first": moved[0].pk, "last": moved[-1].pk},
                )
            changed += len(moved)
            last = rows[-1].pk


# --- anonymous progress lookup (我要查) -----------------------------------------------------------


def check_query_password(number: str, password: str) -> Case:
    """The case for an anonymous progress lookup; the same error for an unknown number and a
    wrong password (so numbers cannot be probed)."""
    number = (number or "").strip()
    password = (password or "").strip()
    case = (
        Case.objects.filter(number=number).select_related("department").first() if number else None
    )
    if (
        case is None
        or not password
        or not secrets.compare_digest(case.query_password_hash, _query_hash(number, password))
    ):
        raise NotFound(
            "cases.query_failed",
            "办件编号或查询密码不正确。",
            "Wrong case number or query password.",
        )
    return case


def masked_applicant(case: Case) -> dict[str, str]:
    return {
        "name": case.applicant_name if case.company_id else mask_name(case.applicant_name),
        "id_number": mask_id_number(case.applicant_id_number),
    }


def get_task(task_id: int) -> CaseTask:
    return _task_for_update(task_id)


def as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


__all__ = [
    "Submission",
    "accept",
    "act",
    "add_material_upload",
    "choose_delivery",
    "claim",
    "create_draft",
    "end_special_procedure",
    "reference_licence",
    "refuse",
    "release",
    "request_correction",
    "resubmit",
    "resume",
    "reuse_material",
    "start_special_procedure",
    "submit",
    "suspend",
    "transfer",
    "update_draft",
    "withdraw",
]
