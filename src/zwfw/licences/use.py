"""Using licences: 用证授权, the licence library for departments, 核验 and certified copies.

SPEC §9: a holder authorises a department to read a licence for one case instead of uploading
a copy. A :class:`~zwfw.licences.models.LicenceGrant` names the licence, the department, the
case (or none, for a stated purpose), the face fields it may read and an expiry; the holder
can revoke it at any time, and each read through :func:`read_licence` is audited and counted
on the grant. Referencing a licence in an application (``cases.services.reference_licence``)
is itself such an authorisation, for that case and that department
(:func:`grant_for_case_reference`).

Departments without a grant can still ask the yes/no question of :func:`check_licence` (核验:
is this licence valid, and does it belong to this name / ID number?) — it returns no face data.

Copies handed out carry their trust level and the watermark text of SPEC §9
(:data:`WATERMARKS`): level A is made here from the licence itself, sealed (PAdES) and
time-limited; B, C and D describe scanned or uploaded copies of case materials.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from zwfw.cases.models import Case, CaseTask
from zwfw.core import audit
from zwfw.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from zwfw.core.masking import mask_id_number, mask_name
from zwfw.identity.models import Company, User
from zwfw.licences import identifiers, render, selectors
from zwfw.licences.models import HolderKind, Licence, LicenceGrant
from zwfw.organisations.models import Department, StaffMembership
from zwfw.signing import pades
from zwfw.signing import services as signing

#: How long a grant may last, in days (a year: the longest a case's handling plausibly needs).
GRANT_MAX_DAYS = 365
#: Default lifetime of a grant made by referencing a licence in an application.
CASE_GRANT_DAYS = 180

#: Watermark texts of copies by trust level (SPEC §9). ``{provider}`` is who provides or
#: checked the copy, ``{until}`` the last day the copy may be used.
WATERMARKS: dict[str, str] = {
    "A": "此件由{provider}提供，仅供办理政务服务事项时使用，有效期至{until}",
    "B": "此件已由{provider}工作人员核对原件，仅供办理政务服务事项时使用",
    "C": "此件由申请人上传，原件待核验，仅供办理政务服务事项时使用",
    "D": "此件由申请人承诺与原件一致，仅供办理政务服务事项时使用",
}
COPY_LEVELS = tuple(WATERMARKS)
#: Days an A-level copy stays usable by default, and at most.
COPY_DEFAULT_DAYS = 30
COPY_MAX_DAYS = 90


def watermark_text(level: str, *, provider: str, until: dt.date | None = None) -> str:
    """The watermark a copy of trust ``level`` (A/B/C/D) carries."""
    if level not in WATERMARKS:
        raise ValidationError(
            "licences.copy_level",
            "复印件可信等级应为 A、B、C 或 D。",
            "The copy level must be A, B, C or D.",
            field="level",
        )
    until_text = f"{until.year}年{until.month}月{until.day}日" if until else ""
    return WATERMARKS[level].format(provider=provider, until=until_text)


# --- the holder's side -----------------------------------------------------------------------


def _field_names(licence: Licence) -> list[str]:
    names = [str(entry.get("name")) for entry in licence.licence_type.face_fields or []]
    return names or sorted(licence.face)


def _check_fields(licence: Licence, fields: list[str] | None, field_name: str) -> list[str]:
    wanted = [str(name).strip() for name in (fields or []) if str(name).strip()]
    known = set(_field_names(licence)) | set(licence.face)
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise ValidationError(
            "licences.unknown_fields",
            f"证照没有这些照面字段：{'、'.join(unknown)}。",
            f"The licence has no face fields {unknown}.",
            field=field_name,
            details={"unknown": unknown, "known": sorted(known)},
        )
    return list(dict.fromkeys(wanted))


def set_shown_fields(user: User, identifier: str, fields: list[str] | None) -> Licence:
    """The face fields anyone verifying the licence sees (J5); ``None`` restores the default."""
    licence = selectors.my_licence(user, identifier)
    chosen = None if fields is None else _check_fields(licence, fields, "fields")
    with transaction.atomic():
        before = licence.shown_fields
        Licence.objects.filter(pk=licence.pk).update(shown_fields=chosen)
        licence.shown_fields = chosen
        audit.record(
            "licences:licence:shown_fields",
            "licences.licence",
            licence.pk,
            before={"shown_fields": before},
            after={"shown_fields": chosen},
            actor=f"user:{user.pk}",
        )
    return licence


def _user_holds_case(user: User, case: Case) -> bool:
    if user.pk in (case.applicant_user_id, case.agent_id):
        return True
    if case.company_id is None:
        return False
    return Company.objects.filter(pk=case.company_id, legal_representative=user).exists()


def _case_involves(case: Case, department: Department) -> bool:
    if case.department_id == department.pk:
        return True
    return CaseTask.objects.filter(case=case, department=department).exists()


def create_grant(
    user: User,
    identifier: str,
    *,
    department_id: int,
    purpose: str,
    case_number: str | None = None,
    fields: list[str] | None = None,
    days: int = 30,
) -> LicenceGrant:
    """用证授权: let ``department`` read the licence (for ``case_number``, or for ``purpose``)."""
    licence = selectors.my_licence(user, identifier)
    if licence.status != Licence.Status.VALID:
        raise Conflict(
            "licences.not_valid",
            f"该证照状态为“{licence.get_status_display()}”，不能授权使用。",
            "Only a valid licence can be shared.",
        )
    department = Department.objects.filter(pk=department_id).first()
    if department is None:
        raise NotFound("licences.department", "部门不存在。", "Unknown department.")
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationError(
            "licences.grant_purpose", "请填写用证事由。", "A purpose is required.", field="purpose"
        )
    if not 1 <= days <= GRANT_MAX_DAYS:
        raise ValidationError(
            "licences.grant_days",
            f"授权期限应为 1 至 {GRANT_MAX_DAYS} 天。",
            f"Days must be 1..{GRANT_MAX_DAYS}.",
            field="days",
        )
    chosen = _check_fields(licence, fields, "fields")
    case = None
    if case_number:
        case = Case.objects.filter(number=case_number.strip()).first()
        if case is None or not _user_holds_case(user, case):
            raise NotFound("licences.case", "未找到您的该办件。", "No such case of yours.")
        if not _case_involves(case, department):
            raise ValidationError(
                "licences.case_department",
                "该部门不办理此办件，不能为此办件授权。",
                "The department does not handle that case.",
                field="department_id",
            )
    now = timezone.now()
    with transaction.atomic():
        grant = LicenceGrant.objects.create(
            licence=licence,
            department=department,
            case=case,
            fields=chosen,
            purpose=purpose[:200],
            granted_by=f"user:{user.pk}",
            granted_at=now,
            expires_at=now + dt.timedelta(days=days),
        )
        audit.record(
            "licences:grant:create",
            "licences.grant",
            grant.pk,
            after={
                "licence": licence.identifier,
                "department": department.pk,
                "case": case.number if case else None,
                "fields": chosen,
                "expires_at": grant.expires_at,
            },
            actor=f"user:{user.pk}",
        )
    return grant


def grants_of(user: User, identifier: str) -> list[LicenceGrant]:
    licence = selectors.my_licence(user, identifier)
    return list(
        LicenceGrant.objects.filter(licence=licence)
        .select_related("licence", "department", "case")
        .order_by("-id")[:200]
    )


def revoke_grant(user: User, identifier: str, grant_id: int) -> LicenceGrant:
    licence = selectors.my_licence(user, identifier)
    with transaction.atomic():
        grant = (
            LicenceGrant.objects.select_for_update().filter(pk=grant_id, licence=licence).first()
        )
        if grant is None:
            raise NotFound("licences.grant", "授权不存在。", "No such grant.")
        if grant.revoked_at is not None:
            return grant
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit.record(
            "licences:grant:revoke",
            "licences.grant",
            grant.pk,
            after={"licence": licence.identifier, "department": grant.department_id},
            actor=f"user:{user.pk}",
        )
    return grant


def _holder_key(case: Case) -> tuple[str, str]:
    if case.company_id is not None:
        uscc = Company.objects.filter(pk=case.company_id).values_list("uscc", flat=True).first()
        return HolderKind.COMPANY, uscc or ""
    id_number = ""
    if case.applicant_user_id is not None:
        id_number = User.objects.get(pk=case.applicant_user_id).id_number or ""
    return HolderKind.PERSON, id_number


def grant_for_case_reference(case: Case, identifier: str) -> LicenceGrant | None:
    """The grant implied by naming a licence in an application (``None``: not a licence here).

    A licence held in this library must belong to the case's applicant (the person, or the
    company the case is for); naming someone else's licence is refused. A licence issued
    elsewhere is kept as a reference only — the department checks it with its issuer.
    """
    licence = Licence.objects.select_related("licence_type").filter(identifier=identifier).first()
    if licence is None:
        return None
    kind, number = _holder_key(case)
    index = Licence._meta.get_field("holder_id_index").index_of(number) if number else ""
    if licence.holder_kind != kind or not number or licence.holder_id_index != index:
        raise ValidationError(
            "licences.not_holder",
            "该电子证照不属于申请人，不能用于本办件。",
            "The licence does not belong to the applicant.",
            field="licence_identifier",
        )
    if licence.status != Licence.Status.VALID:
        raise ValidationError(
            "licences.not_valid",
            f"该证照状态为“{licence.get_status_display()}”，不能用于办件。",
            "Only a valid licence can be used.",
            field="licence_identifier",
        )
    now = timezone.now()
    existing = LicenceGrant.objects.filter(
        licence=licence, department_id=case.department_id, case=case, revoked_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    grant = LicenceGrant.objects.create(
        licence=licence,
        department_id=case.department_id,
        case=case,
        fields=[],
        purpose=f"办理“{case.item_name}”（{case.number or '草稿'}）"[:200],
        granted_by=f"user:{case.applicant_user_id}" if case.applicant_user_id else "",
        granted_at=now,
        expires_at=now + dt.timedelta(days=CASE_GRANT_DAYS),
    )
    audit.record(
        "licences:grant:create",
        "licences.grant",
        grant.pk,
        after={"licence": licence.identifier, "case": case.pk, "by": "case_reference"},
    )
    return grant


# --- the department's side -------------------------------------------------------------------


def staff_departments(user: Any) -> list[int]:
    """Departments where ``user`` holds a current staff role."""
    if not getattr(user, "is_authenticated", False):
        return []
    today = timezone.localdate()
    return list(
        StaffMembership.objects.filter(user=user)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values_list("department_id", flat=True)
        .distinct()
    )


def _require_staff(user: Any) -> list[int]:
    departments = staff_departments(user)
    if not departments:
        raise PermissionDenied(
            "licences.staff_only", "仅部门工作人员可以使用证照库。", "Staff only."
        )
    return departments


def _active_grants(departments: list[int]) -> Q:
    now = timezone.now()
    return Q(
        grants__department_id__in=departments,
        grants__revoked_at__isnull=True,
        grants__expires_at__gt=now,
    )


def read_licence(user: Any, identifier: str, *, case_number: str | None = None) -> dict[str, Any]:
    """A department reads a licence it was authorised to read (audited, counted on the grant)."""
    departments = _require_staff(user)
    licence = selectors.issued_licence(identifier)
    now = timezone.now()
    grants = LicenceGrant.objects.filter(
        licence=licence,
        department_id__in=departments,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).select_related("case")
    if case_number:
        grants = grants.filter(Q(case__isnull=True) | Q(case__number=case_number.strip()))
    grant = grants.order_by("-id").first()
    if grant is None:
        raise PermissionDenied(
            "licences.no_grant",
            "持证人未授权本部门使用该证照（或授权已过期、已撤销）。",
            "The holder has not authorised your department to read this licence.",
        )
    allowed = grant.fields or sorted(licence.face)
    face = {name: licence.face[name] for name in allowed if name in licence.face}
    with transaction.atomic():
        LicenceGrant.objects.filter(pk=grant.pk).update(reads=F("reads") + 1, last_read_at=now)
        audit.record_read(
            "licences.licence",
            licence.pk,
            purpose=f"grant:{grant.pk} {grant.purpose}",
            fields=list(face),
        )
    check = signing.verify_ses(bytes(licence.signature), licence.canonical.encode())
    return {
        "identifier": licence.identifier,
        "licence_type": licence.licence_type.name,
        "licence_type_code": licence.licence_type.code,
        "holder_kind": licence.holder_kind,
        "holder_name": licence.holder_name,
        "holder_id_number": licence.holder_id_number,
        "issuer": licence.issuer.name,
        "status": licence.current_status(),
        "issued_at": licence.issued_at,
        "valid_from": licence.valid_from,
        "valid_until": licence.valid_until,
        "face": face,
        "signature_ok": check.ok,
        "grant": {
            "id": grant.pk,
            "case": grant.case.number if grant.case else None,
            "purpose": grant.purpose,
            "expires_at": grant.expires_at,
        },
    }


def licences_for_holder(
    user: Any, holder_id_number: str, *, type_code: str | None = None
) -> list[Licence]:
    """The holder's licences the staff member's departments are authorised to read."""
    departments = _require_staff(user)
    number = (holder_id_number or "").strip().upper()
    if not number:
        raise ValidationError(
            "licences.holder_id", "请填写持证主体证件号码。", "holder_id_number is required."
        )
    index = Licence._meta.get_field("holder_id_index").index_of(number)
    query = (
        Licence.objects.filter(holder_id_index=index)
        .filter(_active_grants(departments))
        .select_related("licence_type", "issuer")
        .distinct()
        .order_by("-issued_at", "-id")
    )
    if type_code:
        query = query.filter(licence_type__code=type_code.strip())
    found = list(query[:100])
    audit.record_read(
        "licences.holder",
        mask_id_number(number),
        purpose="licence library query by holder",
        fields=["identifier", "licence_type", "status"],
    )
    return found


def check_licence(
    user: Any,
    identifier: str,
    *,
    holder_name: str | None = None,
    holder_id_number: str | None = None,
) -> dict[str, Any]:
    """核验: whether a licence is valid and whether it belongs to this name / ID number.

    No face data is returned, so no grant is needed; each check is audited.
    """
    _require_staff(user)
    text = (identifier or "").strip().upper()[:120]
    try:
        parsed = identifiers.parse_identifier(text)
    except ValidationError as error:
        return {"identifier": text, "status": "unknown", "reason": error.code, "matches": {}}
    licence = (
        Licence.objects.select_related("licence_type", "issuer")
        .filter(identifier=parsed.text)
        .first()
    )
    if licence is None:
        return {
            "identifier": parsed.text,
            "status": "unknown",
            "reason": "licences.unknown",
            "matches": {},
        }
    matches: dict[str, bool] = {}
    if holder_name is not None:
        matches["holder_name"] = holder_name.strip() == licence.holder_name
    if holder_id_number is not None:
        index = Licence._meta.get_field("holder_id_index").index_of(
            holder_id_number.strip().upper()
        )
        matches["holder_id_number"] = index == licence.holder_id_index
    check = signing.verify_ses(bytes(licence.signature), licence.canonical.encode())
    audit.record(
        "licences:licence:check",
        "licences.licence",
        licence.pk,
        after={"matches": matches},
    )
    return {
        "identifier": licence.identifier,
        "status": licence.current_status(),
        "reason": "" if check.ok else f"signature:{check.reason}",
        "licence_type": licence.licence_type.name,
        "issuer": licence.issuer.name,
        "valid_until": licence.valid_until,
        "signature_ok": check.ok,
        "matches": matches,
    }


# --- certified copies --------------------------------------------------------------------------


def certified_copy(
    licence: Licence, *, purpose: str, days: int = COPY_DEFAULT_DAYS, requested_by: str
) -> tuple[bytes, dt.date]:
    """An A-level copy: the licence re-rendered with the watermark, sealed (PAdES) by the node.

    Returns the PDF and the last day the copy may be used.
    """
    from zwfw.licences import services

    if licence.current_status() != Licence.Status.VALID:
        raise Conflict(
            "licences.not_valid", "证照已失效，不能出具复印件。", "The licence is not valid."
        )
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationError(
            "licences.copy_purpose", "请填写复印件用途。", "A purpose is required.", field="purpose"
        )
    if not 1 <= days <= COPY_MAX_DAYS:
        raise ValidationError(
            "licences.copy_days",
            f"复印件有效期应为 1 至 {COPY_MAX_DAYS} 天。",
            f"Days must be 1..{COPY_MAX_DAYS}.",
            field="days",
        )
    until = timezone.localdate() + dt.timedelta(days=days)
    if licence.valid_until and licence.valid_until < until:
        until = licence.valid_until
    mark = watermark_text("A", provider=licence.issuer.name, until=until)
    face = services.face_of(licence, watermark=f"{mark}（用途：{purpose[:40]}）")
    pdf = render.render_pdf(face)
    authority = signing.ensure_node_authority()
    signed = pades.sign_pdf(
        pdf,
        key_pem=authority.pdf_key_pem,
        cert_pem=authority.pdf_cert_pem,
        ca_chain_pem=authority.pdf_ca_cert_pem,
        reason=f"电子证照复印件（A级）{licence.identifier}",
        location=licence.issuer.name,
    )
    audit.record(
        "licences:licence:copy",
        "licences.licence",
        licence.pk,
        after={"level": "A", "purpose": purpose[:200], "until": until},
        actor=requested_by,
    )
    return signed, until


def public_holder_name(licence: Licence) -> str:
    """The holder's name as public verification shows it (J5: the holder's choice)."""
    shown = licence.shown_fields
    if (
        licence.holder_kind == HolderKind.PERSON
        and shown is not None
        and "holder_name" not in shown
    ):
        return mask_name(licence.holder_name)
    return licence.holder_name


def licences_for_case(user: Any, case: Case, identifiers: list[str]) -> dict[str, dict[str, Any]]:
    """What staff handling ``case`` may see of the licences its materials name.

    Each licence of this library is shown through the grant the application made (or another
    active grant to one of the reader's departments): status, type, issuer, validity and the
    granted face fields; without a grant only that it exists and its status. One audited read
    covers the page.
    """
    wanted = sorted({identifier for identifier in identifiers if identifier})
    if not wanted:
        return {}
    departments = staff_departments(user)
    now = timezone.now()
    found = list(
        Licence.objects.filter(identifier__in=wanted).select_related("licence_type", "issuer")
    )
    grants = {
        grant.licence_id: grant
        for grant in LicenceGrant.objects.filter(
            licence__in=found,
            department_id__in=departments,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .filter(Q(case__isnull=True) | Q(case=case))
        .order_by("id")
    }
    out: dict[str, dict[str, Any]] = {}
    read: list[int] = []
    for licence in found:
        grant = grants.get(licence.pk)
        entry: dict[str, Any] = {
            "licence": licence,
            "status": licence.current_status(),
            "granted": grant is not None,
            "face": [],
        }
        if grant is not None:
            labels = {
                f["name"]: f.get("label", f["name"]) for f in licence.licence_type.face_fields
            }
            names = grant.fields or list(licence.face)
            # the holder's number stays masked on the page, like the applicant's own
            entry["face"] = [
                (labels.get(n, n), _shown(n, licence.face[n])) for n in names if n in licence.face
            ]
            read.append(licence.pk)
        out[licence.identifier] = entry
    if read:
        with transaction.atomic():
            LicenceGrant.objects.filter(pk__in=[grants[pk].pk for pk in read]).update(
                reads=F("reads") + 1, last_read_at=now
            )
            audit.record_read(
                "licences.licence",
                ",".join(str(pk) for pk in read),
                purpose=f"case {case.number} materials",
                fields=["face"],
            )
    return out


def _shown(name: str, value: Any) -> Any:
    return mask_id_number(str(value)) if name == "holder_id" else value
