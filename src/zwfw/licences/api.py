"""Public licence verification API (no authentication): valid / revoked / expired / unknown."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from zwfw.licences import services

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
