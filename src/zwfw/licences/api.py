"""Public licence verification API (no authentication): valid / revoked / expired / unknown."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.security import django_auth
from pydantic import Field

from zwfw.api.requesting import current_user as _me
from zwfw.core.errors import NotFound, PermissionDenied
from zwfw.identity.models import User
from zwfw.licences import selectors, services
from zwfw.licences.models import Licence
from zwfw.organisations.models import Role
from zwfw.organisations.selectors import has_role

router = Router(tags=["licences"])


class LicenceVerdictOut(Schema):
    identifier: str
    status: str  # valid / revoked / expired / superseded / unknown
    valid: bool
    reason: str
    licence_type: str
    holder_name: str
    issuer: str
    issued_at: dt.datetime | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    revoked_at: dt.datetime | None
    revocation_reason: str
    face: dict[str, Any]
    signature_ok: bool
    signature_problem: str


def verdict_dict(verdict: services.Verdict) -> dict[str, Any]:
    return {
        "identifier": verdict.identifier,
        "status": verdict.status,
        "valid": verdict.valid,
        "reason": verdict.reason,
        "licence_type": verdict.licence_type,
        "holder_name": verdict.holder_name,
        "issuer": verdict.issuer,
        "issued_at": verdict.issued_at,
        "valid_from": verdict.valid_from,
        "valid_until": verdict.valid_until,
        "revoked_at": verdict.revoked_at,
        "revocation_reason": verdict.revocation_reason,
        "face": verdict.face,
        "signature_ok": verdict.signature_ok,
        "signature_problem": verdict.signature_problem,
    }


@router.get(
    "/licences/verify/{identifier}",
    response=LicenceVerdictOut,
    auth=None,
    summary="Verify a licence by identifier — 电子证照核验 (public)",
)
def verify_licence(request: HttpRequest, identifier: str) -> dict[str, Any]:
    """Status, issuer, validity, public face data and the seal signature check of a licence.

    An identifier that is malformed or not known here gives ``status: "unknown"`` (200).
    """
    return verdict_dict(services.verify_licence_identifier(identifier[:120]))


# --- 我的证照: the holder's wallet ------------------------------------------------------------


class MyLicenceOut(Schema):
    identifier: str
    licence_type: str
    holder_kind: str
    holder_name: str
    issuer: str
    status: str
    version: int
    issued_at: dt.datetime
    valid_from: dt.date
    valid_until: dt.date | None
    revoked_at: dt.datetime | None
    revocation_reason: str
    formats: list[str]


@router.get(
    "/licences/mine",
    response=list[MyLicenceOut],
    auth=django_auth,
    summary="我的证照 — my licences",
)
def my_licences(request: HttpRequest) -> list[dict[str, Any]]:
    """Licences held by the signed-in person or by companies they legally represent."""
    return [
        {
            "identifier": licence.identifier,
            "licence_type": licence.licence_type.name,
            "holder_kind": licence.holder_kind,
            "holder_name": licence.holder_name,
            "issuer": licence.issuer.name,
            "status": licence.status,
            "version": licence.version,
            "issued_at": licence.issued_at,
            "valid_from": licence.valid_from,
            "valid_until": licence.valid_until,
            "revoked_at": licence.revoked_at,
            "revocation_reason": licence.revocation_reason,
            "formats": _formats(licence),
        }
        for licence in selectors.licences_of(_me(request))[:200]
    ]


def _formats(licence: Any) -> list[str]:
    if not licence.pdf_name:  # issued at a case's close; rendered on first download
        from zwfw.licences import render

        return ["json", "pdf"] + (["ofd"] if render.ofd_available() else [])
    return ["json", "pdf"] + (["ofd"] if licence.ofd_name else [])


_MEDIA = {"pdf": "application/pdf", "ofd": "application/ofd", "json": "application/json"}


@router.get(
    "/licences/mine/{identifier}/{fmt}",
    auth=django_auth,
    summary="Download one of my licences as PDF, OFD or signed JSON",
)
def my_licence_file(request: HttpRequest, identifier: str, fmt: str) -> HttpResponse:
    if fmt not in _MEDIA:
        raise NotFound("licences.format", "格式应为 pdf、ofd 或 json。", "Use pdf, ofd or json.")
    licence = selectors.my_licence(_me(request), identifier[:120])
    if fmt == "json":
        data = json.dumps(services.signed_package(licence), ensure_ascii=False).encode()
    else:
        data = services.file_bytes(licence, fmt)
    response = HttpResponse(data, content_type=_MEDIA[fmt])
    response["Content-Disposition"] = f'attachment; filename="licence-{licence.serial}.{fmt}"'
    return response


# --- staff of the issuing department: 注销/吊销 and 换发 ---------------------------------------


class RevokeIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


class IssuedOut(Schema):
    identifier: str
    status: str
    version: int


def _issuer_staff(request: HttpRequest, identifier: str) -> tuple[User, Licence]:
    user = _me(request)
    licence = selectors.issued_licence(identifier)
    if not has_role(user, Role.DECIDER, licence.issuer):
        raise PermissionDenied(
            "licences.not_issuer_staff",
            "只有发证部门的审批决定人员可以注销或换发证照。",
            "Only deciders of the issuing department may revoke or renew a licence.",
        )
    return user, licence


@router.post(
    "/licences/{identifier}/revoke",
    response=IssuedOut,
    auth=django_auth,
    summary="注销/吊销 a licence (deciders of the issuing department)",
)
def revoke_licence(request: HttpRequest, identifier: str, body: RevokeIn) -> dict[str, Any]:
    user, licence = _issuer_staff(request, identifier)
    revoked = services.revoke(licence, reason=body.reason, actor=user)
    return {"identifier": revoked.identifier, "status": revoked.status, "version": revoked.version}


@router.post(
    "/licences/{identifier}/renew",
    response=IssuedOut,
    auth=django_auth,
    summary="换发: a new version of a licence (deciders of the issuing department)",
)
def renew_licence(request: HttpRequest, identifier: str) -> dict[str, Any]:
    user, licence = _issuer_staff(request, identifier)
    new = services.renew(licence, actor=user)
    return {"identifier": new.identifier, "status": new.status, "version": new.version}
