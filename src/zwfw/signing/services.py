"""Seal registry services: the node's authorities, department seals, signing and verifying.

:func:`ensure_node_authority` creates, once, the node's SM2 CA (which certifies seal keys) and
its ECDSA PAdES identity (which signs PDFs); it is called lazily or by ``zwfw setup_signing``.
:func:`seal_for` gives a department's official seal, making it (key pair, certificate, picture,
SESeal) on first use. Revoked seals are refused by :func:`sign_bytes` and reported by
:func:`verify_ses` (GB/T 38540 has no revocation list of its own: decision 0016).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from zwfw.core import audit
from zwfw.core.crypto import sm2_generate_key
from zwfw.core.errors import Conflict, ValidationError
from zwfw.organisations.models import Department
from zwfw.signing import pades, ses, x509
from zwfw.signing.models import NodeAuthority, Seal
from zwfw.signing.picture import seal_picture

CA_VALID_DAYS = 20 * 365
PDF_IDENTITY_VALID_DAYS = 10 * 365
SEAL_VALID_DAYS = 5 * 365
SEAL_SIZE_MM = 40


def _actor(actor: Any) -> str:
    if actor is None:
        return audit.SYSTEM_ACTOR
    return str(getattr(actor, "username", actor))


def ensure_node_authority(actor: Any = None) -> NodeAuthority:
    """The node's authority, created on first use (idempotent, safe under concurrency)."""
    found = NodeAuthority.objects.order_by("id").first()
    if found is not None:
        return found
    node = str(settings.NODE_NAME)
    ca_private, ca_cert = x509.make_ca(f"{node} SM2 CA", node, valid_days=CA_VALID_DAYS)
    maker_private, maker_public = sm2_generate_key()
    maker_cert = x509.issue_certificate(
        ca_private,
        ca_cert,
        maker_public,
        common_name=f"{node} 制章者"[:64],
        organisation=node[:64],
        uscc=None,
        valid_days=CA_VALID_DAYS - 1,
        not_before=x509.certificate_info(ca_cert).not_before,
    )
    key_pem, cert_pem, pdf_ca_pem = pades.make_node_signing_identity(
        "zwfw node document signing", "zwfw", valid_days=PDF_IDENTITY_VALID_DAYS
    )
    with transaction.atomic():
        # One row: a lock on the table's first row is not possible before it exists, so the
        # loser of a race sees the winner's row after its own insert and deletes its own.
        authority = NodeAuthority.objects.create(
            name=node,
            ca_cert_der=ca_cert,
            ca_private_pem=ca_private.decode(),
            maker_cert_der=maker_cert,
            maker_private_pem=maker_private.decode(),
            pdf_key_pem=key_pem.decode(),
            pdf_cert_pem=cert_pem.decode(),
            pdf_ca_cert_pem=pdf_ca_pem.decode(),
        )
        first = NodeAuthority.objects.order_by("id").first()
        if first is not None and first.pk != authority.pk:
            authority.delete()
            return first
        audit.record(
            "signing:authority:create",
            "signing.nodeauthority",
            authority.pk,
            after={"name": node},
            actor=_actor(actor),
        )
    return authority


def trusted_cas() -> list[bytes]:
    """The SM2 CA certificates seals must chain to (this node's).

    Normally one; two racing first uses on PostgreSQL may each keep a row (neither sees the
    other's uncommitted insert), so every authority's CA is trusted.
    """
    ensure_node_authority()
    return [
        bytes(der)
        for der in NodeAuthority.objects.order_by("id").values_list("ca_cert_der", flat=True)
    ]


def pdf_trust_roots() -> bytes:
    """The PEM CA certificate PDFs signed by this node chain to."""
    return ensure_node_authority().pdf_ca_cert_pem.encode()


def seal_for(department: Department, actor: Any = None) -> Seal:
    """The department's current official seal, made on first use."""
    now = timezone.now()
    found = (
        Seal.objects.filter(
            department=department,
            seal_type=Seal.Kind.OFFICIAL,
            revoked_at__isnull=True,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .order_by("-id")
        .first()
    )
    if found is not None:
        return found
    return make_seal(department, actor=actor)


def make_seal(department: Department, *, name: str = "", actor: Any = None) -> Seal:
    """A new official seal for ``department`` (certificate from the node CA)."""
    authority = ensure_node_authority()
    ca_private = authority.ca_private_pem.encode()
    ca_cert = bytes(authority.ca_cert_der)
    ca_info = x509.certificate_info(ca_cert)
    start = max(timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5), ca_info.not_before)
    end = min(start + dt.timedelta(days=SEAL_VALID_DAYS), ca_info.not_after)
    days = max(1, (end - start).days)
    end = start + dt.timedelta(days=days)
    private_pem, public_pem = sm2_generate_key()
    organisation = department.name[:64]
    cert = x509.issue_certificate(
        ca_private,
        ca_cert,
        public_pem,
        common_name=f"{organisation}电子印章"[:64],
        organisation=organisation,
        uscc=department.uscc or None,
        valid_days=days,
        not_before=start,
    )
    seal_name = name or f"{department.name}行政审批专用章"
    picture = seal_picture(department.name, "行政审批专用章")
    es_id = f"ZWFW{department.pk:08d}{secrets.token_hex(6).upper()}"
    seal_der = ses.make_seal(
        es_id=es_id,
        seal_type=ses.SEAL_TYPE_ORGANISATION,
        name=seal_name,
        holder_certs=[cert],
        picture=picture,
        picture_type="PNG",
        width_mm=SEAL_SIZE_MM,
        height_mm=SEAL_SIZE_MM,
        valid_start=start,
        valid_end=end,
        maker_private_pem=authority.maker_private_pem.encode(),
        maker_cert_der=bytes(authority.maker_cert_der),
        created_at=start,
    )
    with transaction.atomic():
        seal = Seal.objects.create(
            department=department,
            seal_type=Seal.Kind.OFFICIAL,
            name=seal_name,
            es_id=es_id,
            picture_png=picture,
            private_pem=private_pem.decode(),
            cert_der=cert,
            seal_der=seal_der,
            valid_from=start,
            valid_until=end,
        )
        audit.record(
            "signing:seal:create",
            "signing.seal",
            seal.pk,
            after={"department": department.pk, "es_id": es_id, "name": seal_name},
            actor=_actor(actor),
        )
    return seal


def revoke_seal(seal: Seal, *, reason: str, actor: Any = None) -> Seal:
    """Revoke a seal: it signs nothing more, and its signatures made later are refused."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            "signing.revoke_reason",
            "请填写吊销印章的原因。",
            "A reason is required.",
            field="reason",
        )
    with transaction.atomic():
        locked = Seal.objects.select_for_update().get(pk=seal.pk)
        if locked.revoked_at is not None:
            raise Conflict("signing.seal_revoked", "该印章已吊销。", "The seal is already revoked.")
        locked.revoked_at = timezone.now()
        locked.revocation_reason = reason[:500]
        locked.save(update_fields=["revoked_at", "revocation_reason"])
        audit.record(
            "signing:seal:revoke",
            "signing.seal",
            locked.pk,
            after={"reason": locked.revocation_reason},
            actor=_actor(actor),
        )
    return locked


def sign_bytes(seal: Seal, data: bytes) -> bytes:
    """The SES_Signature (DER) of ``data`` with ``seal``; a revoked seal is refused."""
    if seal.revoked_at is not None:
        raise Conflict("signing.seal_revoked", "该印章已吊销，不能签章。", "The seal is revoked.")
    return ses.sign_data(
        data,
        seal_der=bytes(seal.seal_der),
        signer_private_pem=seal.private_pem.encode(),
        signer_cert_der=bytes(seal.cert_der),
    )


@dataclass(frozen=True)
class SesVerdict:
    ok: bool
    reason: str = ""
    detail: str = ""
    signer: str = ""
    signed_at: dt.datetime | None = None
    es_id: str = ""


def verify_ses(ses_der: bytes, data: bytes | None, *, at: dt.datetime | None = None) -> SesVerdict:
    """Check an SES_Signature against ``data`` with this node's CA as trust root.

    A seal revoked before the signing time makes the signature ``seal_revoked``.
    """
    check = ses.verify_signature(ses_der, data, at=at, trusted_cas=trusted_cas())
    es_id = check.seal.es_id if check.seal is not None else ""
    if not check.ok:
        return SesVerdict(False, str(check.reason or "structure"), check.detail, es_id=es_id or "")
    revoked = (
        Seal.objects.filter(es_id=es_id, revoked_at__isnull=False).only("revoked_at").first()
        if es_id
        else None
    )
    if (
        revoked is not None
        and revoked.revoked_at is not None
        and check.signed_at is not None
        and check.signed_at >= revoked.revoked_at
    ):
        return SesVerdict(False, "seal_revoked", "signed after the seal was revoked")
    return SesVerdict(True, signer=check.signer or "", signed_at=check.signed_at, es_id=es_id or "")
