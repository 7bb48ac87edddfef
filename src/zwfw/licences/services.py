"""Issuing, renewing, revoking and verifying electronic licences (SPEC §9, issue 8).

A licence's data is its *canonical JSON* (sorted keys, UTF-8, no spaces) — the identifier, the
type, the holder, the issuer, the face fields and the validity — signed with the issuing
department's seal as a GB/T 38540 ``SES_Signature``. It is rendered as a PDF (signed PAdES by
the node's identity) and as an OFD (with its own seal signature over ``Signature.xml``); both
files are stored content-addressed under ``FILE_DIR/licences/``.

Cases: :func:`issue_for_case` is called by ``zwfw.cases.services._close``. It issues when the
decision is approve and the item's result type is 出证办结 (``"1"``). The licence type is the
one named ``content["licence_types"][0]`` (or the item's ``result_name``) among the types the
department may issue; when there is none, a default type is created with the department as
its defining department (code = department USCC + next 3-digit sequence), holder kind from the
case, default face fields and no expiry. A department without a valid USCC cannot appear in
a GB/T 36904 identifier: no licence is issued then (a logged warning) and the case still closes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zwfw.cases import notices
from zwfw.cases.models import Case
from zwfw.core import audit
from zwfw.core.crypto import sm3_hex
from zwfw.core.errors import Conflict, NotFound, ValidationError
from zwfw.core.masking import mask_id_number
from zwfw.core.validators import validate_uscc
from zwfw.licences import identifiers, render
from zwfw.licences.models import HolderKind, ItemLicenceType, Licence, LicenceType, SerialCounter
from zwfw.organisations.models import Department
from zwfw.signing import ofd, pades
from zwfw.signing import services as signing

logger = logging.getLogger(__name__)

LICENCE_DIR = "licences"
PACKAGE_FORMAT = "zwfw-licence/1"
DEFAULT_FACE_FIELDS: list[dict[str, Any]] = [
    {"name": "holder_name", "label": "持证主体", "type": "string", "required": True},
    {"name": "holder_id", "label": "证件号码", "type": "string", "required": True},
    {"name": "item_name", "label": "许可事项", "type": "string", "required": False},
    {"name": "case_number", "label": "办件编号", "type": "string", "required": False},
]
_FACE_TYPES = {"string", "date", "number"}


def actor_text(actor: Any) -> str:
    return _actor(actor)


def _actor(actor: Any) -> str:
    if actor is None:
        return audit.SYSTEM_ACTOR
    return str(getattr(actor, "username", actor))


# --- canonical data -------------------------------------------------------------------------


def canonical_bytes(data: dict[str, Any]) -> bytes:
    """Sorted keys, no insignificant spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def verify_url(identifier: str) -> str:
    return f"{str(settings.PUBLIC_URL).rstrip('/')}/licences/verify/?id={identifier}"


# --- files ----------------------------------------------------------------------------------


def _file_path(storage_name: str) -> Path:
    root = Path(settings.FILE_DIR).resolve()
    path = (root / storage_name).resolve()
    if not path.is_relative_to(root):
        raise OSError(f"stored file path outside FILE_DIR: {storage_name}")
    return path


def _store(content: bytes, extension: str) -> tuple[str, str]:
    sha = sm3_hex(content)
    name = f"{LICENCE_DIR}/{sha[:2]}/{sha}.{extension}"
    path = _file_path(name)
    if path.is_file() and path.stat().st_size == len(content):
        return sha, name
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return sha, name


def file_bytes(licence: Licence, kind: str) -> bytes:
    """The stored PDF (``kind="pdf"``) or OFD of a licence, checked against its SM3."""
    sha, name = (
        (licence.pdf_sha, licence.pdf_name)
        if kind == "pdf"
        else (licence.ofd_sha, licence.ofd_name)
    )
    if not licence.pdf_name:
        # Issued at a case's close; the worker has not rendered the files yet.
        licence = render_files(licence.pk)
        sha, name = (
            (licence.pdf_sha, licence.pdf_name)
            if kind == "pdf"
            else (licence.ofd_sha, licence.ofd_name)
        )
    if not name:
        raise NotFound("licences.file_missing", "该证照没有此格式的文件。", "No such file.")
    data = _file_path(name).read_bytes()
    if sm3_hex(data) != sha:
        raise Conflict("licences.file_corrupt", "证照文件已损坏。", "The stored file is corrupt.")
    return data


def signed_package(licence: Licence) -> dict[str, Any]:
    """The signed JSON package: the licence data, its SES_Signature and the seal certificate."""
    return {
        "format": PACKAGE_FORMAT,
        "licence": json.loads(licence.canonical),
        "signature": base64.b64encode(bytes(licence.signature)).decode(),
        "seal_cert": base64.b64encode(bytes(licence.seal.cert_der)).decode(),
        "ca_cert": base64.b64encode(signing.trusted_cas()[0]).decode(),
    }


# --- types ----------------------------------------------------------------------------------


def check_face_fields(fields: Any) -> list[dict[str, Any]]:
    if not isinstance(fields, list):
        raise ValidationError(
            "licences.face_fields", "照面信息定义应为列表。", "A list is required."
        )
    seen: set[str] = set()
    for entry in fields:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not name or not isinstance(name, str) or name in seen:
            raise ValidationError(
                "licences.face_fields",
                "照面字段名称缺失或重复。",
                "Missing or repeated field name.",
            )
        if entry.get("type", "string") not in _FACE_TYPES:
            raise ValidationError(
                "licences.face_fields", f"照面字段“{name}”类型无效。", f"Bad type for {name}."
            )
        pattern = entry.get("format")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                raise ValidationError(
                    "licences.face_fields",
                    f"照面字段“{name}”的格式不是有效的正则表达式。",
                    f"Bad format pattern for {name}: {exc}",
                ) from exc
        seen.add(name)
    return [
        {
            "name": entry["name"],
            "label": str(entry.get("label") or entry["name"])[:100],
            "type": entry.get("type", "string"),
            "required": bool(entry.get("required", False)),
            **({"format": str(entry["format"])} if entry.get("format") is not None else {}),
        }
        for entry in fields
    ]


def face_value_problem(entry: dict[str, Any], value: str) -> str:
    """Why ``value`` does not fit face field ``entry`` (type and format), or ``""``."""
    label = entry.get("label") or entry["name"]
    kind = entry.get("type", "string")
    if kind == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"照面信息“{label}”应为日期（YYYY-MM-DD）。"
    elif kind == "number":
        try:
            float(value)
        except ValueError:
            return f"照面信息“{label}”应为数字。"
    pattern = entry.get("format")
    if pattern and not re.fullmatch(str(pattern), value):
        return f"照面信息“{label}”格式不符合要求。"
    return ""


def next_type_code(department: Department) -> str:
    if not department.uscc:
        raise ValidationError(
            "licences.no_uscc",
            "该部门没有统一社会信用代码，不能定义证照类型或发证。",
            "The department has no USCC.",
        )
    prefix = department.uscc
    codes = LicenceType.objects.filter(code__startswith=prefix).values_list("code", flat=True)
    used = {int(code[18:]) for code in codes if code[18:].isdigit()}
    number = next(n for n in range(1, 1000) if n not in used)
    return f"{prefix}{number:03d}"


def create_licence_type(
    *,
    name: str,
    defining_department: Department,
    holder_kind: str,
    face_fields: list[dict[str, Any]] | None = None,
    validity_years: int | None = None,
    issuers: list[Department] | None = None,
    automatic: bool = False,
    actor: Any = None,
) -> LicenceType:
    if holder_kind not in HolderKind.values:
        raise ValidationError("licences.holder_kind", "持证主体类型无效。", "Bad holder kind.")
    with transaction.atomic():
        licence_type = LicenceType.objects.create(
            code=next_type_code(defining_department),
            name=name.strip()[:200],
            holder_kind=holder_kind,
            face_fields=check_face_fields(face_fields or DEFAULT_FACE_FIELDS),
            validity_years=validity_years,
            created_automatically=automatic,
        )
        licence_type.departments.set(issuers or [defining_department])
        audit.record(
            "licences:type:create",
            "licences.licencetype",
            licence_type.pk,
            after={"code": licence_type.code, "name": licence_type.name},
            actor=_actor(actor),
        )
    return licence_type


# --- issuance -------------------------------------------------------------------------------


def _next_serial(issuer: Department) -> str:
    counter, _ = SerialCounter.objects.get_or_create(department=issuer)
    counter = SerialCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{timezone.localdate():%Y}{counter.last:010d}"


def _valid_until(licence_type: LicenceType, start: dt.date) -> dt.date | None:
    years = licence_type.validity_years
    if not years:
        return None
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return end - dt.timedelta(days=1)


def _check_face(licence_type: LicenceType, face: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for entry in licence_type.face_fields:
        name = entry["name"]
        value = face.get(name)
        if value in (None, ""):
            if entry.get("required"):
                raise ValidationError(
                    "licences.face_required",
                    f"照面信息“{entry.get('label', name)}”为必填项。",
                    f"Face field {name} is required.",
                    field=name,
                )
            continue
        text = str(value)[:500]
        problem = face_value_problem(entry, text)
        if problem:
            raise ValidationError("licences.face_format", problem, problem, field=name)
        clean[name] = text
    return clean


def _face_lines(licence_type: LicenceType, licence: Licence) -> list[tuple[str, str]]:
    lines = [
        (entry.get("label", entry["name"]), licence.face[entry["name"]])
        for entry in licence_type.face_fields
        if entry["name"] in licence.face
    ]
    validity = f"{licence.valid_from:%Y年%m月%d日}至" + (
        f"{licence.valid_until:%Y年%m月%d日}" if licence.valid_until else "长期"
    )
    return [*lines, ("有效期限", validity)]


@dataclass
class Timing:
    """Seconds spent in the stages of the last issuance (for the benchmark and the report)."""

    stages: dict[str, float] = field(default_factory=dict)


LAST_TIMING = Timing()


def face_of(licence: Licence, *, watermark: str = "") -> render.Face:
    """What the licence's PDF and OFD print (with ``watermark`` across the page for copies)."""
    licence_type = licence.licence_type
    return render.Face(
        title=licence_type.name,
        identifier=licence.identifier,
        lines=_face_lines(licence_type, licence),
        issuer=licence.issuer.name,
        issued_on=notices.chinese_date(licence.issued_at),
        verify_url=verify_url(licence.identifier),
        seal_png=bytes(licence.seal.picture_png),
        watermark=watermark,
    )


def _render_and_sign(licence: Licence, licence_type: LicenceType) -> None:
    import time

    licence.licence_type = licence_type
    seal = licence.seal
    face = face_of(licence)
    url = face.verify_url
    stages: dict[str, float] = {}
    start = time.perf_counter()
    pdf = render.render_pdf(face)
    stages["pdf_render"] = time.perf_counter() - start
    authority = signing.ensure_node_authority()
    start = time.perf_counter()
    signed_pdf = pades.sign_pdf(
        pdf,
        key_pem=authority.pdf_key_pem,
        cert_pem=authority.pdf_cert_pem,
        ca_chain_pem=authority.pdf_ca_cert_pem,
        reason=f"电子证照 {licence.identifier}",
        location=licence.issuer.name,
    )
    stages["pdf_sign"] = time.perf_counter() - start
    licence.pdf_sha, licence.pdf_name = _store(signed_pdf, "pdf")
    if render.ofd_available():
        start = time.perf_counter()
        package = render.build_ofd_package(face, qr_png=render.qr_png(url))
        signed_value = signing.sign_bytes(seal, ofd.signature_xml_to_sign(package))
        licence.ofd_sha, licence.ofd_name = _store(ofd.finish_ofd(package, signed_value), "ofd")
        stages["ofd"] = time.perf_counter() - start
    LAST_TIMING.stages = stages


def issue_licence(
    *,
    licence_type: LicenceType,
    holder_kind: str,
    holder_name: str,
    holder_id_number: str,
    face: dict[str, Any],
    issuer: Department,
    case: Case | None = None,
    actor: Any = None,
    valid_from: dt.date | None = None,
    previous: Licence | None = None,
    defer_files: bool = False,
    valid_until: dt.date | None = None,
    original_number: str = "",
) -> Licence:
    """Issue (version 001, or the next version of ``previous``), sign, render, store.

    With ``defer_files`` the licence (identifier, canonical data, seal signature) is complete
    and verifiable at once, and its PDF and OFD are rendered by the worker after commit
    (:func:`render_files`; a download before that renders them on the spot). Case closing uses
    this: rendering and the PAdES signature cost ~200 ms, ten times the rest of a close.
    """
    if not issuer.uscc:
        raise ValidationError(
            "licences.no_uscc", "发证部门没有统一社会信用代码。", "The issuer has no USCC."
        )
    if not licence_type.departments.filter(pk=issuer.pk).exists():
        raise ValidationError(
            "licences.not_issuer",
            "该部门无权签发此类证照。",
            "The department may not issue this licence type.",
        )
    if holder_kind not in HolderKind.values or not holder_name.strip():
        raise ValidationError("licences.holder", "持证主体信息不完整。", "Holder incomplete.")
    clean_face = _check_face(licence_type, face)
    with transaction.atomic():
        now = timezone.now()
        start = valid_from or timezone.localdate()
        if previous is not None:
            serial, version = previous.serial, previous.version + 1
        else:
            serial, version = _next_serial(issuer), 1
        identifier = identifiers.build_identifier(licence_type.code, issuer.uscc, serial, version)
        seal = signing.seal_for(issuer, actor=actor)
        licence = Licence(
            identifier=identifier,
            licence_type=licence_type,
            holder_kind=holder_kind,
            holder_name=holder_name.strip()[:200],
            holder_id_number=holder_id_number.strip(),
            issuer=issuer,
            serial=serial,
            version=version,
            face=clean_face,
            issued_at=now,
            valid_from=start,
            valid_until=valid_until or _valid_until(licence_type, start),
            case=case,
            previous=previous,
            seal=seal,
        )
        data = {
            "identifier": identifier,
            "type": {"code": licence_type.code, "name": licence_type.name},
            "holder": {
                "kind": holder_kind,
                "name": licence.holder_name,
                "id_number": licence.holder_id_number,
            },
            "issuer": {"name": issuer.name, "uscc": issuer.uscc},
            "serial": serial,
            "version": f"{version:03d}",
            "face": clean_face,
            "issued_at": now.isoformat(),
            "valid_from": start.isoformat(),
            "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        }
        if original_number:  # a paper licence brought into the library: its number, signed
            data["original_number"] = original_number[:64]
        canonical = canonical_bytes(data)
        licence.canonical = canonical.decode()
        licence.signature = signing.sign_bytes(seal, canonical)
        if not defer_files:
            _render_and_sign(licence, licence_type)
        licence.save()
        if defer_files:
            pk = licence.pk
            transaction.on_commit(lambda: _enqueue_render(pk))
        audit.record(
            "licences:licence:issue",
            "licences.licence",
            licence.pk,
            after={
                "identifier": identifier,
                "type": licence_type.code,
                "case": case.pk if case else None,
                "previous": previous.pk if previous else None,
            },
            actor=_actor(actor),
        )
    return licence


def _type_for_case(case: Case) -> LicenceType:
    binding = (
        ItemLicenceType.objects.select_related("licence_type").filter(item_id=case.item_id).first()
    )
    if binding is not None:
        return binding.licence_type
    content = case.item_version.content or {}
    names = content.get("licence_types") or []
    by_code = LicenceType.objects.filter(
        code__in=[str(name).strip().upper() for name in names], departments=case.department
    ).first()
    if by_code is not None:
        return by_code
    name = str(names[0] if names else content.get("result_name") or case.item_name)
    found = LicenceType.objects.filter(name=name, departments=case.department).first()
    if found is not None:
        return found
    holder_kind = HolderKind.COMPANY if case.company_id else HolderKind.PERSON
    return create_licence_type(
        name=name,
        defining_department=case.department,
        holder_kind=holder_kind,
        automatic=True,
        actor="system",
    )


def _usable_uscc(uscc: str | None) -> bool:
    """Whether ``uscc`` can stand in a GB/T 36904 identifier (present and valid)."""
    if not uscc:
        return False
    try:
        validate_uscc(uscc)
    except ValidationError:
        return False
    return True


def _enqueue_render(licence_id: int) -> None:
    from zwfw.licences.tasks import render_licence_files_task

    render_licence_files_task.enqueue(licence_id)


def render_files(licence_id: int) -> Licence:
    """Render, sign and store a deferred licence's PDF and OFD (idempotent)."""
    with transaction.atomic():
        licence = (
            Licence.objects.select_for_update(of=("self",))
            .select_related("licence_type")
            .get(pk=licence_id)
        )
        if licence.pdf_name:
            return licence
        _render_and_sign(licence, licence.licence_type)
        licence.save(update_fields=["pdf_sha", "pdf_name", "ofd_sha", "ofd_name"])
        audit.record(
            "licences:licence:render",
            "licences.licence",
            licence.pk,
            after={"identifier": licence.identifier},
        )
    return licence


def issue_for_case(case: Case) -> Licence | None:
    """The hook of 办结: issue the case's licence when it ends approved with 出证办结."""
    content = case.item_version.content or {}
    if case.decision != "approve" or str(content.get("result_type")) != "1":
        return None
    if not _usable_uscc(case.department.uscc):
        logger.warning(
            "case %s: department %s has no valid USCC, no licence issued",
            case.pk,
            case.department_id,
        )
        return None
    if Licence.objects.filter(case=case).exists():
        return None
    licence_type = _type_for_case(case)
    if case.company_id and case.company is not None:
        kind, name, id_number = HolderKind.COMPANY, case.company.name, case.company.uscc
    else:
        kind, name, id_number = HolderKind.PERSON, case.applicant_name, case.applicant_id_number
    face = {
        "holder_name": name,
        "holder_id": id_number,
        "item_name": content.get("result_name") or case.item_name,
        "case_number": case.number or "",
    }
    return issue_licence(
        licence_type=licence_type,
        holder_kind=kind,
        holder_name=name,
        holder_id_number=id_number,
        face=face,
        issuer=case.department,
        case=case,
        actor="system",
        defer_files=True,
    )


# --- lifecycle --------------------------------------------------------------------------------


def _locked(licence: Licence) -> Licence:
    return Licence.objects.select_for_update().get(pk=licence.pk)


def renew(licence: Licence, *, actor: Any = None, face: dict[str, Any] | None = None) -> Licence:
    """换发: a new version (same serial, version + 1); the old one becomes superseded."""
    with transaction.atomic():
        old = _locked(licence)
        if old.status not in (Licence.Status.VALID, Licence.Status.EXPIRED):
            raise Conflict(
                "licences.not_renewable", "该证照已注销或已换发，不能换发。", "Cannot renew."
            )
        new = issue_licence(
            licence_type=old.licence_type,
            holder_kind=old.holder_kind,
            holder_name=old.holder_name,
            holder_id_number=old.holder_id_number,
            face={**old.face, **(face or {})},
            issuer=old.issuer,
            case=old.case,
            actor=actor,
            previous=old,
        )
        old.status = Licence.Status.SUPERSEDED
        old.save(update_fields=["status"])
    return new


def revoke(licence: Licence, *, reason: str, actor: Any = None) -> Licence:
    """注销/吊销 with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "licences.revoke_reason",
            "请填写注销/吊销原因。",
            "A reason is required.",
            field="reason",
        )
    with transaction.atomic():
        locked = _locked(licence)
        if locked.status == Licence.Status.REVOKED:
            raise Conflict("licences.revoked", "该证照已注销/吊销。", "Already revoked.")
        before = locked.status
        locked.status = Licence.Status.REVOKED
        locked.revoked_at = timezone.now()
        locked.revocation_reason = reason[:500]
        locked.save(update_fields=["status", "revoked_at", "revocation_reason"])
        audit.record(
            "licences:licence:revoke",
            "licences.licence",
            locked.pk,
            before={"status": before},
            after={"status": locked.status, "reason": locked.revocation_reason},
            actor=_actor(actor),
        )
    return locked


def expire_due(today: dt.date | None = None) -> int:
    """Mark valid licences whose validity ended before ``today`` as expired; how many."""
    today = today or timezone.localdate()
    with transaction.atomic():
        ids = list(
            Licence.objects.filter(status=Licence.Status.VALID, valid_until__lt=today).values_list(
                "pk", flat=True
            )
        )
        if ids:
            Licence.objects.filter(pk__in=ids).update(status=Licence.Status.EXPIRED)
            audit.record(
                "licences:licence:expire", "licences.licence", "", after={"ids": ids[:1000]}
            )
    return len(ids)


# --- verification -----------------------------------------------------------------------------


@dataclass
class Verdict:
    """The answer of a verification: ``status`` valid/revoked/expired/superseded/unknown."""

    status: str
    identifier: str
    reason: str = ""
    licence_type: str = ""
    holder_name: str = ""
    issuer: str = ""
    issued_at: dt.datetime | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    revoked_at: dt.datetime | None = None
    revocation_reason: str = ""
    face: dict[str, Any] = field(default_factory=dict)
    signature_ok: bool = False
    signature_problem: str = ""

    @property
    def valid(self) -> bool:
        return self.status == Licence.Status.VALID and self.signature_ok


def public_face(licence: Licence) -> dict[str, Any]:
    """The face data shown publicly: the fields the holder chose to show (J5), all by default;
    identity numbers of persons masked either way."""
    face = dict(licence.face)
    if licence.shown_fields is not None:
        face = {name: value for name, value in face.items() if name in licence.shown_fields}
    if licence.holder_kind == HolderKind.PERSON and "holder_id" in face:
        face["holder_id"] = mask_id_number(face["holder_id"])
    return face


def _signed_identifier(canonical: str) -> str:
    try:
        return str(json.loads(canonical).get("identifier", ""))
    except (ValueError, AttributeError):
        return ""


def verify_licence_identifier(identifier: str) -> Verdict:
    from zwfw.licences import use

    text = (identifier or "").strip().upper()
    try:
        parsed = identifiers.parse_identifier(text)
    except ValidationError as error:
        return Verdict("unknown", text[:80], reason=error.code)
    licence = (
        Licence.objects.select_related("licence_type", "issuer", "seal")
        .filter(identifier=parsed.text)
        .first()
    )
    if licence is None:
        return Verdict("unknown", parsed.text, reason="licences.unknown")
    status = licence.current_status()
    check = signing.verify_ses(bytes(licence.signature), licence.canonical.encode())
    if check.ok and _signed_identifier(licence.canonical) != licence.identifier:
        # a signed record moved under another identifier (a row copied in the database)
        check = signing.SesVerdict(False, "identifier_mismatch")
    reasons: dict[str, str] = {
        Licence.Status.REVOKED: "revoked",
        Licence.Status.EXPIRED: "expired",
        Licence.Status.SUPERSEDED: "superseded",
    }
    reason = reasons.get(str(status), "")
    if not check.ok and not reason:
        reason = f"signature:{check.reason}"
    return Verdict(
        status=status,
        identifier=licence.identifier,
        reason=reason,
        licence_type=licence.licence_type.name,
        holder_name=use.public_holder_name(licence),
        issuer=licence.issuer.name,
        issued_at=licence.issued_at,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        revoked_at=licence.revoked_at,
        revocation_reason=licence.revocation_reason,
        face=public_face(licence),
        signature_ok=check.ok,
        signature_problem=check.reason,
    )
