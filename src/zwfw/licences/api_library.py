"""Licence use and management API: 用证授权, copies, shown fields, the departments' licence
library (read with a grant, query by holder, 核验), licence types, manual and bulk issuance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.security import django_auth
from pydantic import Field

from zwfw.api.requesting import current_user as _me
from zwfw.api.schemas import ErrorOut
from zwfw.core import idempotency
from zwfw.core.errors import NotFound, ValidationError
from zwfw.licences import manage, use
from zwfw.licences.models import LicenceGrant, LicenceType
from zwfw.organisations.models import Department

router = Router(tags=["licences"])

ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
}
IMPORT_MAX_BYTES = 20 * 1024 * 1024
MAX_ID = 2**63 - 1  # BigAutoField: larger numbers cannot name a row (and SQLite refuses them)


# --- the holder: shown fields, grants, copies -----------------------------------------------


class ShownFieldsIn(Schema):
    fields: list[str] | None = Field(
        None, description="face field names shown to verifiers; null restores the default (all)"
    )


class ShownFieldsOut(Schema):
    identifier: str
    shown_fields: list[str] | None


@router.put(
    "/licences/shown-fields/{identifier}",
    response={200: ShownFieldsOut, **ERRORS},
    auth=django_auth,
    summary="Choose the face fields public verification shows (holder)",
)
def set_shown_fields(request: HttpRequest, identifier: str, body: ShownFieldsIn) -> dict[str, Any]:
    licence = use.set_shown_fields(_me(request), identifier[:120], body.fields)
    return {"identifier": licence.identifier, "shown_fields": licence.shown_fields}


class GrantIn(Schema):
    identifier: str = Field(..., max_length=120)
    department_id: int = Field(..., ge=1, le=MAX_ID)
    purpose: str = Field(..., max_length=200)
    case_number: str | None = Field(None, max_length=32)
    fields: list[str] = Field(default_factory=list, description="[] = every face field")
    days: int = Field(30, description=f"1..{use.GRANT_MAX_DAYS}")


class GrantOut(Schema):
    id: int
    identifier: str
    department_id: int
    department: str
    case_number: str | None
    fields: list[str]
    purpose: str
    granted_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    active: bool
    reads: int
    last_read_at: dt.datetime | None


def grant_out(grant: LicenceGrant) -> dict[str, Any]:
    from django.utils import timezone

    return {
        "id": grant.pk,
        "identifier": grant.licence.identifier,
        "department_id": grant.department_id,
        "department": grant.department.name,
        "case_number": grant.case.number if grant.case else None,
        "fields": grant.fields,
        "purpose": grant.purpose,
        "granted_at": grant.granted_at,
        "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at,
        "active": grant.revoked_at is None and grant.expires_at > timezone.now(),
        "reads": grant.reads,
        "last_read_at": grant.last_read_at,
    }


@router.post(
    "/licences/grants",
    response={201: GrantOut, **ERRORS},
    auth=django_auth,
    summary="用证授权: let a department read one of my licences (for a case or a purpose)",
)
def create_grant(request: HttpRequest, body: GrantIn) -> Status:
    user = _me(request)

    def create() -> tuple[int, Any]:
        grant = use.create_grant(
            user,
            body.identifier,
            department_id=body.department_id,
            purpose=body.purpose,
            case_number=body.case_number,
            fields=body.fields,
            days=body.days,
        )
        return 201, grant_out(grant)

    status, payload = idempotency.run(request, body.dict(), create)
    return Status(status, payload)


@router.get(
    "/licences/grants",
    response={200: list[GrantOut], **ERRORS},
    auth=django_auth,
    summary="The grants of one of my licences, with their read counts",
)
def list_grants(request: HttpRequest, identifier: str) -> list[dict[str, Any]]:
    return [grant_out(grant) for grant in use.grants_of(_me(request), identifier[:120])]


@router.post(
    "/licences/grants/{grant_id}/revoke",
    response={200: GrantOut, **ERRORS},
    auth=django_auth,
    summary="Withdraw a grant (the department can no longer read the licence)",
)
def revoke_grant(
    request: HttpRequest, grant_id: Annotated[int, Path(ge=1, le=MAX_ID)], identifier: str
) -> dict[str, Any]:
    grant = use.revoke_grant(_me(request), identifier[:120], grant_id)
    return grant_out(grant)


class CopyIn(Schema):
    identifier: str = Field(..., max_length=120)
    purpose: str = Field(..., max_length=200)
    days: int = Field(use.COPY_DEFAULT_DAYS, description=f"1..{use.COPY_MAX_DAYS}")


@router.post(
    "/licences/copies",
    response={200: None, **ERRORS},
    auth=django_auth,
    summary="An A-level copy of my licence: watermarked, time-limited, sealed (PDF)",
)
def make_copy(request: HttpRequest, body: CopyIn) -> HttpResponse:
    from zwfw.licences import selectors

    user = _me(request)
    licence = selectors.my_licence(user, body.identifier[:120])
    pdf, until = use.certified_copy(
        licence, purpose=body.purpose, days=body.days, requested_by=f"user:{user.pk}"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="licence-{licence.serial}-copy-A-{until:%Y%m%d}.pdf"'
    )
    return response


# --- departments: the licence library --------------------------------------------------------


class LibraryLicenceOut(Schema):
    identifier: str
    licence_type: str
    licence_type_code: str
    holder_kind: str
    holder_name: str
    holder_id_number: str
    issuer: str
    status: str
    issued_at: dt.datetime
    valid_from: dt.date
    valid_until: dt.date | None
    face: dict[str, Any]
    signature_ok: bool
    grant: dict[str, Any]


@router.get(
    "/licences/library/{identifier}",
    response={200: LibraryLicenceOut, **ERRORS},
    auth=django_auth,
    summary="Read a licence the holder authorised your department to read (audited)",
)
def read_licence(request: HttpRequest, identifier: str, case: str | None = None) -> dict[str, Any]:
    return use.read_licence(request.user, identifier, case_number=case)


class HolderLicenceOut(Schema):
    identifier: str
    licence_type: str
    licence_type_code: str
    issuer: str
    status: str
    valid_until: dt.date | None


@router.get(
    "/licences/library",
    response={200: list[HolderLicenceOut], **ERRORS},
    auth=django_auth,
    summary="A holder's licences that your department is authorised to read",
)
def licences_for_holder(
    request: HttpRequest, holder_id_number: str, type_code: str | None = None
) -> list[dict[str, Any]]:
    found = use.licences_for_holder(request.user, holder_id_number[:32], type_code=type_code)
    return [
        {
            "identifier": licence.identifier,
            "licence_type": licence.licence_type.name,
            "licence_type_code": licence.licence_type.code,
            "issuer": licence.issuer.name,
            "status": licence.status,
            "valid_until": licence.valid_until,
        }
        for licence in found
    ]


class CheckIn(Schema):
    identifier: str = Field(..., max_length=120)
    holder_name: str | None = Field(None, max_length=200)
    holder_id_number: str | None = Field(None, max_length=32)


class CheckOut(Schema):
    identifier: str
    status: str
    reason: str = ""
    licence_type: str = ""
    issuer: str = ""
    valid_until: dt.date | None = None
    signature_ok: bool = False
    matches: dict[str, bool]


@router.post(
    "/licences/check",
    response={200: CheckOut, **ERRORS},
    auth=django_auth,
    summary="核验: is the licence valid, and does it belong to this name / ID number? (staff)",
)
def check_licence(request: HttpRequest, body: CheckIn) -> dict[str, Any]:
    return use.check_licence(
        request.user,
        body.identifier,
        holder_name=body.holder_name,
        holder_id_number=body.holder_id_number,
    )


# --- licence types -----------------------------------------------------------------------------


class FaceFieldIn(Schema):
    name: str = Field(..., min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(..., min_length=1, max_length=100)
    type: Literal["string", "date", "number"] = "string"
    required: bool = False
    format: str | None = Field(None, max_length=200, description="regular expression")


class LicenceTypeOut(Schema):
    code: str
    name: str
    holder_kind: str
    face_fields: list[dict[str, Any]]
    validity_years: int | None
    issuers: list[int]
    items: list[str]


def type_out(licence_type: LicenceType) -> dict[str, Any]:
    return {
        "code": licence_type.code,
        "name": licence_type.name,
        "holder_kind": licence_type.holder_kind,
        "face_fields": licence_type.face_fields,
        "validity_years": licence_type.validity_years,
        "issuers": sorted(department.pk for department in licence_type.departments.all()),
        "items": sorted(binding.item.implementation_code for binding in licence_type.items.all()),
    }


@router.get(
    "/licences/types",
    response={200: list[LicenceTypeOut], **ERRORS},
    auth=None,
    summary="Licence types (证照类型), public; filter by issuing department",
)
def list_types(
    request: HttpRequest, department_id: Annotated[int, Query(ge=1, le=MAX_ID)] | None = None
) -> list[dict[str, Any]]:
    query = LicenceType.objects.prefetch_related("departments", "items__item").order_by("code")
    if department_id is not None:
        query = query.filter(departments=department_id)
    return [type_out(licence_type) for licence_type in query[:500]]


class TypeIn(Schema):
    department_id: int = Field(..., ge=1, le=MAX_ID)
    name: str = Field(..., min_length=1, max_length=200)
    holder_kind: Literal["person", "company"]
    face_fields: list[FaceFieldIn] = Field(default_factory=list)
    validity_years: int | None = Field(None, ge=1, le=100)
    issuers: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default_factory=list)


def _department(department_id: int) -> Department:
    found = Department.objects.filter(pk=department_id).first()
    if found is None:
        raise NotFound("licences.department", "部门不存在。", "Unknown department.")
    return found


@router.post(
    "/licences/types",
    response={201: LicenceTypeOut, **ERRORS},
    auth=django_auth,
    summary="Define a licence type (code = department USCC + 3 digits)",
)
def define_type(request: HttpRequest, body: TypeIn) -> Status:
    licence_type = manage.define_type(
        request.user,
        department=_department(body.department_id),
        name=body.name,
        holder_kind=body.holder_kind,
        face_fields=[entry.dict() for entry in body.face_fields] or None,
        validity_years=body.validity_years,
        issuers=body.issuers or None,
    )
    return Status(201, type_out(licence_type))


class TypePatch(Schema):
    name: str | None = Field(None, max_length=200)
    face_fields: list[FaceFieldIn] | None = None
    validity_years: int | None = Field(None, ge=0, le=100, description="0 = no expiry")
    issuers: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = None


@router.patch(
    "/licences/types/{code}",
    response={200: LicenceTypeOut, **ERRORS},
    auth=django_auth,
    summary="Change a licence type (its defining department)",
)
def update_type(request: HttpRequest, code: str, body: TypePatch) -> dict[str, Any]:
    licence_type = manage.update_licence_type(
        request.user,
        manage.get_type(code),
        name=body.name,
        face_fields=[entry.dict() for entry in body.face_fields]
        if body.face_fields is not None
        else None,
        validity_years=body.validity_years,
        issuers=body.issuers,
    )
    return type_out(licence_type)


class BindIn(Schema):
    implementation_code: str = Field(..., max_length=64)


@router.post(
    "/licences/types/{code}/items",
    response={200: LicenceTypeOut, **ERRORS},
    auth=django_auth,
    summary="Link a 出证办结 catalogue item to this licence type",
)
def bind_item(request: HttpRequest, code: str, body: BindIn) -> dict[str, Any]:
    licence_type = manage.get_type(code)
    manage.bind_item(request.user, licence_type, body.implementation_code)
    return type_out(LicenceType.objects.get(pk=licence_type.pk))


# --- manual and bulk issuance ------------------------------------------------------------------


class IssueIn(Schema):
    type_code: str = Field(..., max_length=21)
    department_id: int = Field(..., ge=1, le=MAX_ID)
    holder_kind: Literal["person", "company"]
    holder_name: str = Field(..., min_length=1, max_length=200)
    holder_id_number: str = Field(..., min_length=1, max_length=32)
    face: dict[str, str] = Field(default_factory=dict)
    valid_from: dt.date | None = None


class IssueOut(Schema):
    identifier: str
    status: str
    version: int
    valid_from: dt.date
    valid_until: dt.date | None


@router.post(
    "/licences/issue",
    response={201: IssueOut, **ERRORS},
    auth=django_auth,
    summary="Issue a licence by hand (deciders / administrators of an issuing department)",
)
def issue_licence(request: HttpRequest, body: IssueIn) -> Status:
    def create() -> tuple[int, Any]:
        licence = manage.issue_manually(
            request.user,
            licence_type=manage.get_type(body.type_code),
            issuer=_department(body.department_id),
            holder_kind=body.holder_kind,
            holder_name=body.holder_name,
            holder_id_number=body.holder_id_number,
            face=body.face,
            valid_from=body.valid_from,
        )
        return 201, {
            "identifier": licence.identifier,
            "status": licence.status,
            "version": licence.version,
            "valid_from": licence.valid_from,
            "valid_until": licence.valid_until,
        }

    status, payload = idempotency.run(request, body.dict(), create)
    return Status(status, payload)


class RowErrorOut(Schema):
    row: int
    column: str
    code: str
    message: str


class ImportOut(Schema):
    rows: int
    imported: int
    identifiers: list[str]
    errors: list[RowErrorOut]


@router.post(
    "/licences/import",
    response={200: ImportOut, **ERRORS},
    auth=django_auth,
    summary="Bring existing paper licences into the library (.xlsx or .csv; per-row errors)",
)
def import_licences(
    request: HttpRequest,
    file: File[UploadedFile],
    department_id: Annotated[int, Form(ge=1, le=MAX_ID)],
) -> dict[str, Any]:
    if file.size is not None and file.size > IMPORT_MAX_BYTES:
        raise ValidationError(
            "licences.import_too_large",
            f"文件超过 {IMPORT_MAX_BYTES // 1024 // 1024} MB。",
            "The file is too large.",
            field="file",
        )
    report = manage.import_paper_licences(
        request.user, _department(department_id), file.read(), file.name or "upload"
    )
    return {
        "rows": report.rows,
        "imported": len(report.imported),
        "identifiers": report.imported,
        "errors": [error.__dict__ for error in report.errors],
    }


# --- 变更 and history ----------------------------------------------------------------------------


class ChangeIn(Schema):
    face: dict[str, str] = Field(..., description="the face fields that change")
    reason: str = Field(..., min_length=1, max_length=500)


class VersionOut(Schema):
    identifier: str
    version: int
    status: str
    issued_at: dt.datetime
    valid_from: dt.date
    valid_until: dt.date | None
    revoked_at: dt.datetime | None
    revocation_reason: str


@router.post(
    "/licences/{identifier}/change",
    response={201: VersionOut, **ERRORS},
    auth=django_auth,
    summary="变更: a new version with changed face data (deciders of the issuing department)",
)
def change_licence(request: HttpRequest, identifier: str, body: ChangeIn) -> Status:
    new = manage.change_licence(request.user, identifier, face=body.face, reason=body.reason)
    return Status(201, version_out(new))


def version_out(licence: Any) -> dict[str, Any]:
    return {
        "identifier": licence.identifier,
        "version": licence.version,
        "status": licence.status,
        "issued_at": licence.issued_at,
        "valid_from": licence.valid_from,
        "valid_until": licence.valid_until,
        "revoked_at": licence.revoked_at,
        "revocation_reason": licence.revocation_reason,
    }


@router.get(
    "/licences/{identifier}/history",
    response={200: list[VersionOut], **ERRORS},
    auth=django_auth,
    summary="Every version of a licence (the holder, or staff of the issuing department)",
)
def licence_history(request: HttpRequest, identifier: str) -> list[dict[str, Any]]:
    return [version_out(licence) for licence in manage.history(request.user, identifier)]
