"""The seal registry: node authority, department seals, signing, revocation, verification."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from zwfw.catalog.tests import factories
from zwfw.core.errors import Conflict, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.signing import services as signing
from zwfw.signing import ses, x509
from zwfw.signing.models import NodeAuthority, Seal

pytestmark = pytest.mark.django_db


def test_node_authority_is_made_once() -> None:
    first = signing.ensure_node_authority()
    assert signing.ensure_node_authority().pk == first.pk
    call_command("setup_signing")
    assert NodeAuthority.objects.count() == 1
    ca = x509.certificate_info(bytes(first.ca_cert_der))
    assert ca.is_ca
    maker = bytes(first.maker_cert_der)
    assert x509.verify_certificate(maker, bytes(first.ca_cert_der))
    assert first.ca_private_pem.startswith("-----BEGIN")
    with connection.cursor() as cursor:
        cursor.execute("SELECT ca_private_pem FROM signing_nodeauthority")
        assert "BEGIN" not in cursor.fetchone()[0]  # encrypted at rest


def test_seal_for_makes_the_department_seal_once_and_signs() -> None:
    department = factories.department()
    seal = signing.seal_for(department)
    assert signing.seal_for(department).pk == seal.pk
    assert bytes(seal.picture_png).startswith(b"\x89PNG")
    check = ses.verify_seal(bytes(seal.seal_der), trusted_cas=signing.trusted_cas())
    assert check.ok, check.detail
    signature = signing.sign_bytes(seal, b"licence data")
    verdict = signing.verify_ses(signature, b"licence data")
    assert verdict.ok
    assert verdict.es_id == seal.es_id
    assert signing.verify_ses(signature, b"licence data!").reason == "data_hash"
    assert AuditRecord.objects.filter(action="signing:seal:create").count() == 1


def test_revoked_seal_signs_nothing_and_later_signatures_fail() -> None:
    department = factories.department()
    seal = signing.seal_for(department)
    before = signing.sign_bytes(seal, b"x")
    with pytest.raises(ValidationError):
        signing.revoke_seal(seal, reason=" ")
    revoked = signing.revoke_seal(seal, reason="印章遗失", actor="test")
    with pytest.raises(Conflict):
        signing.sign_bytes(revoked, b"x")
    with pytest.raises(Conflict):
        signing.revoke_seal(revoked, reason="again")
    assert signing.verify_ses(before, b"x").ok  # made before the revocation
    Seal.objects.filter(pk=seal.pk).update(revoked_at=revoked.revoked_at.replace(year=2000))
    assert signing.verify_ses(before, b"x").reason == "seal_revoked"
    assert signing.seal_for(department).pk != seal.pk  # a new seal replaces it
