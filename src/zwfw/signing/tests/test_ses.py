"""GB/T 38540 seals and seal signatures: round trips, every failure reason, OpenSSL, fuzzing."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import os
import random
from pathlib import Path

import pytest
from asn1crypto import core

from zwfw.core.crypto import sm2_generate_key, sm2_sign, sm3
from zwfw.signing import ses
from zwfw.signing.ses import (
    CERT_LIST_DIGESTS,
    SEAL_TYPE_ORGANISATION,
    Failure,
    SealError,
    make_seal,
    sign_data,
    verify_seal,
    verify_signature,
)
from zwfw.signing.tests import DISTID, T0, days, flip_bit, needs_openssl_sm2, png, run_openssl
from zwfw.signing.x509 import (
    SM2_WITH_SM3_OID,
    CertificateError,
    certificate_info,
    issue_certificate,
    make_ca,
)

DOCUMENT = "某市行政审批局准予行政许可决定书（样本）".encode() * 20
SIGNED_AT = T0 + days(10)
SEAL_END = T0 + days(180)


@dataclasses.dataclass(frozen=True)
class Party:
    key: bytes
    cert: bytes


@dataclasses.dataclass(frozen=True)
class World:
    ca_key: bytes
    ca: bytes
    maker: Party
    signer: Party
    other_signer: Party  # same CA, not listed in the seal
    seal: bytes
    picture: bytes

    def party(
        self, name: str, *, ca: tuple[bytes, bytes] | None = None, valid_days: int = 365
    ) -> Party:
        ca_key, ca_cert = ca or (self.ca_key, self.ca)
        key, public = sm2_generate_key()
        cert = issue_certificate(
            ca_key, ca_cert, public, common_name=name, organisation="某市行政审批局",
            uscc="91110000600037341L", valid_days=valid_days, not_before=T0,
        )  # fmt: skip
        return Party(key, cert)

    def seal_for(self, *holders: Party, **changes: object) -> bytes:
        arguments: dict[str, object] = {
            "es_id": "35010000000001",
            "seal_type": SEAL_TYPE_ORGANISATION,
            "name": "某市行政审批局行政审批专用章",
            "holder_certs": [h.cert for h in holders],
            "picture": self.picture,
            "picture_type": "PNG",
            "width_mm": 42,
            "height_mm": 42,
            "valid_start": T0,
            "valid_end": SEAL_END,
            "maker_private_pem": self.maker.key,
            "maker_cert_der": self.maker.cert,
            "created_at": T0,
        }
        arguments.update(changes)
        return make_seal(**arguments)  # type: ignore[arg-type]

    def sign(
        self, data: bytes = DOCUMENT, *, seal: bytes | None = None, at: dt.datetime = SIGNED_AT
    ) -> bytes:
        return sign_data(
            data, seal_der=seal or self.seal, signer_private_pem=self.signer.key,
            signer_cert_der=self.signer.cert, property_info="doc=licence-1;range=all", at=at,
        )  # fmt: skip


@pytest.fixture(scope="module")
def world() -> World:
    ca_key, ca = make_ca("某市政务服务 CA", "某市政务服务中心", valid_days=3650, not_before=T0)
    base = World(ca_key, ca, Party(b"", b""), Party(b"", b""), Party(b"", b""), b"", png())
    maker = base.party("电子印章制作")
    signer = base.party("行政审批专用章签章者")
    other = base.party("未授权的签章者")
    world = dataclasses.replace(base, maker=maker, signer=signer, other_signer=other)
    return dataclasses.replace(world, seal=world.seal_for(signer))


@pytest.fixture(scope="module")
def signature(world: World) -> bytes:
    return world.sign()


def unchecked_signature(
    world: World,
    *,
    seal: bytes | None = None,
    signer: Party | None = None,
    at: dt.datetime = SIGNED_AT,
    data: bytes = DOCUMENT,
) -> bytes:
    """An SES_Signature made without sign_data's checks (to build the bad cases)."""
    signer = signer or world.signer
    return ses._assemble_signature(
        seal_der=seal or world.seal,
        data_hash=sm3(data),
        signed_at=at,
        property_info="",
        signer_private_pem=signer.key,
        signer_cert_der=signer.cert,
    )


# --- round trips ------------------------------------------------------------------------------


def test_seal_round_trip(world: World) -> None:
    check = verify_seal(world.seal, at=SIGNED_AT, trusted_cas=[world.ca])
    assert check.ok, check.detail
    assert check.reason is None
    assert check.trusted
    assert check.signed_form == "sequence"
    assert check.es_id == "35010000000001"
    assert check.vendor_id == "zwfw"
    assert check.seal_type == SEAL_TYPE_ORGANISATION
    assert check.name == "某市行政审批局行政审批专用章"
    assert check.cert_list_type == 1
    assert check.certs == (world.signer.cert,)
    assert (check.created, check.valid_start, check.valid_end) == (T0, T0, SEAL_END)
    assert (check.picture_type, check.picture) == ("PNG", world.picture)
    assert (check.width_mm, check.height_mm) == (42, 42)
    assert check.maker_cert == world.maker.cert
    assert check.lists(world.signer.cert)
    assert not check.lists(world.other_signer.cert)
    untrusted = verify_seal(world.seal, at=SIGNED_AT)
    assert untrusted.ok
    assert not untrusted.trusted


def test_signature_round_trip(world: World, signature: bytes) -> None:
    check = verify_signature(signature, DOCUMENT, at=SIGNED_AT, trusted_cas=[world.ca])
    assert check.ok, check.detail
    assert check.reason is None
    assert check.data_checked
    assert check.trusted
    assert check.signed_at == SIGNED_AT
    assert check.data_hash == sm3(DOCUMENT)
    assert check.property_info == "doc=licence-1;range=all"
    assert check.signer_cert == world.signer.cert
    assert check.signer is not None
    assert "行政审批专用章签章者" in check.signer
    assert check.seal is not None
    assert check.seal.ok
    assert check.seal.es_id == "35010000000001"
    assert not check.has_timestamp
    # Verified later (years after the seal expired), it is still the same valid signature.
    assert verify_signature(signature, DOCUMENT, at=T0 + days(3000)).ok


def test_signature_without_data_checks_the_signature_only(signature: bytes) -> None:
    check = verify_signature(signature, at=SIGNED_AT)
    assert check.ok
    assert not check.data_checked
    assert not check.trusted


def test_prehashed_signing_and_verification(world: World) -> None:
    digest = sm3(DOCUMENT)
    signed = sign_data(
        digest, seal_der=world.seal, signer_private_pem=world.signer.key,
        signer_cert_der=world.signer.cert, at=SIGNED_AT, prehashed=True,
    )  # fmt: skip
    assert verify_signature(signed, DOCUMENT, at=SIGNED_AT).ok
    assert verify_signature(signed, data_hash=digest, at=SIGNED_AT).ok
    assert verify_signature(signed, data_hash=bytes(32), at=SIGNED_AT).reason == Failure.DATA_HASH
    with pytest.raises(ValueError, match="32-byte"):
        sign_data(
            digest[:31], seal_der=world.seal, signer_private_pem=world.signer.key,
            signer_cert_der=world.signer.cert, at=SIGNED_AT, prehashed=True,
        )  # fmt: skip


def test_seal_listing_certificate_digests(world: World) -> None:
    seal = world.seal_for(world.signer, cert_list_type=CERT_LIST_DIGESTS)
    check = verify_seal(seal, at=SIGNED_AT)
    assert check.ok
    assert check.cert_list_type == CERT_LIST_DIGESTS
    assert check.certs == ()
    assert check.cert_digests == (("sm3", sm3(world.signer.cert)),)
    assert verify_signature(world.sign(seal=seal), DOCUMENT, at=SIGNED_AT).ok
    other = unchecked_signature(world, seal=seal, signer=world.other_signer)
    assert verify_signature(other, DOCUMENT, at=SIGNED_AT).reason == Failure.SIGNER_NOT_IN_SEAL


def test_several_holders_and_picture_types(world: World) -> None:
    svg = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="40mm"/>'
    seal = world.seal_for(world.other_signer, world.signer, picture=svg, picture_type="SVG")
    check = verify_seal(seal, at=SIGNED_AT)
    assert check.ok
    assert check.picture_type == "SVG"
    assert len(check.certs) == 2
    assert verify_signature(world.sign(seal=seal), DOCUMENT, at=SIGNED_AT).ok
    jpg = world.seal_for(world.signer, picture=b"\xff\xd8\xff\xe0" + bytes(60), picture_type="JPG")
    assert verify_seal(jpg, at=SIGNED_AT).picture_type == "JPG"


# --- every failure reason ---------------------------------------------------------------------


def test_one_bit_of_the_data(signature: bytes) -> None:
    check = verify_signature(signature, flip_bit(DOCUMENT, 7), at=SIGNED_AT)
    assert check.reason == Failure.DATA_HASH
    assert not check.ok
    assert check.data_checked
    assert verify_signature(signature, DOCUMENT + b"\n", at=SIGNED_AT).reason == Failure.DATA_HASH


def test_one_bit_of_the_picture(world: World, signature: bytes) -> None:
    position = world.seal.index(world.picture) + len(world.picture) // 2
    assert (
        verify_seal(flip_bit(world.seal, position), at=SIGNED_AT).reason == Failure.SEAL_SIGNATURE
    )
    position = signature.index(world.picture) + len(world.picture) // 2
    check = verify_signature(flip_bit(signature, position, 3), DOCUMENT, at=SIGNED_AT)
    assert check.reason == Failure.SEAL_SIGNATURE
    assert check.seal is not None
    assert check.seal.reason == Failure.SEAL_SIGNATURE


def test_one_bit_of_the_signature(signature: bytes) -> None:
    # The signature value is the last element: its last byte is the last byte of s.
    check = verify_signature(flip_bit(signature, len(signature) - 1), DOCUMENT, at=SIGNED_AT)
    assert check.reason == Failure.SIGNATURE
    # The signed time, property or hash fields changed: the signature no longer covers them.
    index = signature.index(b"doc=licence-1")
    assert verify_signature(flip_bit(signature, index), at=SIGNED_AT).reason == Failure.SIGNATURE


def test_one_bit_of_the_seal_signature(world: World) -> None:
    parsed = ses._parse_seal(world.seal)
    index = world.seal.index(parsed.signed_value) + 20
    assert verify_seal(flip_bit(world.seal, index), at=SIGNED_AT).reason == Failure.SEAL_SIGNATURE


def test_expired_and_not_yet_valid_seal(world: World) -> None:
    seal = world.seal_for(world.signer, valid_start=T0 + days(5), valid_end=T0 + days(30))
    assert verify_seal(seal, at=T0 + days(31)).reason == Failure.SEAL_EXPIRED
    assert verify_seal(seal, at=T0 + days(4)).reason == Failure.SEAL_EXPIRED
    assert verify_seal(seal, at=T0 + days(30)).ok
    late = unchecked_signature(world, seal=seal, at=T0 + days(31))
    check = verify_signature(late, DOCUMENT, at=T0 + days(40))
    assert check.reason == Failure.SEAL_EXPIRED
    assert "outside the seal's validity" in check.detail
    early = unchecked_signature(world, seal=seal, at=T0 + days(4))
    assert verify_signature(early, DOCUMENT, at=T0 + days(40)).reason == Failure.SEAL_EXPIRED
    with pytest.raises(SealError) as refused:
        world.sign(seal=seal, at=T0 + days(31))
    assert refused.value.reason == Failure.SEAL_EXPIRED


def test_signer_not_in_the_seal(world: World) -> None:
    stranger = unchecked_signature(world, signer=world.other_signer)
    check = verify_signature(stranger, DOCUMENT, at=SIGNED_AT, trusted_cas=[world.ca])
    assert check.reason == Failure.SIGNER_NOT_IN_SEAL
    with pytest.raises(SealError) as refused:
        sign_data(
            DOCUMENT, seal_der=world.seal, signer_private_pem=world.other_signer.key,
            signer_cert_der=world.other_signer.cert, at=SIGNED_AT,
        )  # fmt: skip
    assert refused.value.reason == Failure.SIGNER_NOT_IN_SEAL


def test_certificate_from_another_ca(world: World) -> None:
    rogue_ca = make_ca("某市政务服务 CA", "某市政务服务中心", valid_days=3650, not_before=T0)
    impostor = world.party("行政审批专用章签章者", ca=rogue_ca)
    seal = world.seal_for(impostor)
    signed = sign_data(
        DOCUMENT, seal_der=seal, signer_private_pem=impostor.key, signer_cert_der=impostor.cert,
        at=SIGNED_AT,
    )  # fmt: skip
    # Consistent in itself (no trust anchors given) …
    alone = verify_signature(signed, DOCUMENT, at=SIGNED_AT)
    assert alone.ok
    assert not alone.trusted
    # … but not issued by the node's CA.
    check = verify_signature(signed, DOCUMENT, at=SIGNED_AT, trusted_cas=[world.ca])
    assert check.reason == Failure.CERTIFICATE
    assert "signer" in check.detail
    assert verify_signature(signed, DOCUMENT, at=SIGNED_AT, trusted_cas=[world.ca, rogue_ca[1]]).ok
    # A maker certified by another CA.
    rogue_maker = world.party("伪造的制章者", ca=rogue_ca)
    forged = world.seal_for(
        world.signer, maker_private_pem=rogue_maker.key, maker_cert_der=rogue_maker.cert
    )
    assert verify_seal(forged, at=SIGNED_AT, trusted_cas=[world.ca]).reason == Failure.CERTIFICATE
    check = verify_signature(
        world.sign(seal=forged), DOCUMENT, at=SIGNED_AT, trusted_cas=[world.ca]
    )
    assert check.reason == Failure.CERTIFICATE
    assert "maker" in check.detail


def test_signer_certificate_expired_when_signing(world: World) -> None:
    short = world.party("短期签章者", valid_days=20)
    seal = world.seal_for(short)
    signed = unchecked_signature(world, seal=seal, signer=short, at=T0 + days(25))
    check = verify_signature(signed, DOCUMENT, at=T0 + days(26))
    assert check.reason == Failure.CERTIFICATE
    assert "valid from" in check.detail
    with pytest.raises(SealError) as refused:
        sign_data(
            DOCUMENT, seal_der=seal, signer_private_pem=short.key, signer_cert_der=short.cert,
            at=T0 + days(25),
        )  # fmt: skip
    assert refused.value.reason == Failure.CERTIFICATE


def test_encryption_certificates_cannot_sign(world: World) -> None:
    key, public = sm2_generate_key()
    cert = issue_certificate(
        world.ca_key, world.ca, public, common_name="加密证书", organisation="x", uscc=None,
        valid_days=100, usage="encryption", not_before=T0,
    )  # fmt: skip
    holder = Party(key, cert)
    signed = unchecked_signature(world, seal=world.seal_for(holder), signer=holder)
    check = verify_signature(signed, DOCUMENT, at=SIGNED_AT)
    assert check.reason == Failure.CERTIFICATE
    assert "not for signing" in check.detail


def test_signing_time_in_the_future(world: World) -> None:
    signed = unchecked_signature(world, at=SIGNED_AT + dt.timedelta(minutes=6))
    assert verify_signature(signed, DOCUMENT, at=SIGNED_AT).reason == Failure.SIGNATURE
    signed = unchecked_signature(world, at=SIGNED_AT + dt.timedelta(minutes=4))
    assert verify_signature(signed, DOCUMENT, at=SIGNED_AT).ok  # within the clock skew


def _reencode(der: bytes, /, **changes: object) -> bytes:
    outer = ses.SESSignature.load(der)
    fields = {name: outer[name] for name in ("to_sign", "cert", "signature_alg_id", "signature")}
    fields.update(changes)
    return ses.SESSignature(fields).dump()


def _reencode_seal(seal: bytes, **header: object) -> bytes:
    parsed = ses.SESeal.load(seal)
    info = parsed["eseal_info"]
    new_header = {"id": info["header"]["id"].native, "version": 4, "vid": "zwfw", **header}
    new_info = ses.SESSealInfo(
        {
            "header": new_header,
            "es_id": info["es_id"],
            "property": info["property"],
            "picture": info["picture"],
        }
    )
    return ses.SESeal(
        {
            "eseal_info": new_info,
            "cert": parsed["cert"],
            "sign_alg_id": parsed["sign_alg_id"],
            "signed_value": parsed["signed_value"],
        }
    ).dump()


def test_structure(world: World, signature: bytes) -> None:
    bad: list[object] = [
        b"",
        b"\x00",
        os.urandom(64),
        os.urandom(len(signature)),
        signature[:-1],
        signature[: len(signature) // 2],
        signature + b"\x00",
        b"\x30\x00",
        b"\x30\x80" + signature[2:],
        world.seal,  # a seal is not a signature
        None,
        "not bytes",
        12,
        _reencode(signature, signature_alg_id=core.ObjectIdentifier("1.2.840.10045.4.3.2")),
        _reencode(signature, signature_alg_id=core.ObjectIdentifier("1.2.156.10197.1.301.1")),
    ]
    for candidate in bad:
        check = verify_signature(candidate, DOCUMENT, at=SIGNED_AT)  # type: ignore[arg-type]
        assert check.reason == Failure.STRUCTURE, (candidate, check)
        assert not check.ok
        assert check.detail
    for candidate in [b"", os.urandom(100), world.seal[:-3], signature, None, world.seal + b"\x00"]:
        assert verify_seal(candidate, at=SIGNED_AT).reason == Failure.STRUCTURE  # type: ignore[arg-type]


def test_structure_of_the_seal_header(world: World) -> None:
    assert verify_seal(_reencode_seal(world.seal), at=SIGNED_AT).ok  # the re-encoding is faithful
    assert (
        verify_seal(_reencode_seal(world.seal, id="EX"), at=SIGNED_AT).reason == Failure.STRUCTURE
    )
    assert (
        verify_seal(_reencode_seal(world.seal, version=3), at=SIGNED_AT).reason == Failure.STRUCTURE
    )
    wrong_alg = ses.SESeal.load(world.seal).copy()
    wrong_alg["sign_alg_id"] = "1.2.156.10197.1.401"  # SM3 alone
    assert verify_seal(wrong_alg.dump(), at=SIGNED_AT).reason == Failure.STRUCTURE
    # An element beyond the declared fields.
    body = ses.SESeal.load(world.seal).contents + core.Integer(1).dump()
    extra = b"\x30" + ses._der_length(len(body)) + body
    assert verify_seal(extra, at=SIGNED_AT).reason == Failure.STRUCTURE


def test_tbs_version_and_critical_extensions(world: World, signature: bytes) -> None:
    tbs = ses.SESSignature.load(signature)["to_sign"].copy()
    tbs["version"] = 3
    assert (
        verify_signature(_reencode(signature, to_sign=tbs), at=SIGNED_AT).reason
        == Failure.STRUCTURE
    )
    tbs = ses.SESSignature.load(signature)["to_sign"].copy()
    tbs["ext_datas"] = [{"extn_id": "1.2.3.4", "critical": True, "extn_value": b"?"}]
    assert (
        verify_signature(_reencode(signature, to_sign=tbs), at=SIGNED_AT).reason
        == Failure.STRUCTURE
    )
    tbs["ext_datas"] = [{"extn_id": "1.2.3.4", "critical": False, "extn_value": b"?"}]
    # Allowed, but the signature covers extDatas: this one was added afterwards.
    assert (
        verify_signature(_reencode(signature, to_sign=tbs), at=SIGNED_AT).reason
        == Failure.SIGNATURE
    )


def test_garbage_certificates(world: World, signature: bytes) -> None:
    check = verify_signature(_reencode(signature, cert=b"not a certificate"), at=SIGNED_AT)
    assert check.reason == Failure.CERTIFICATE
    assert "signer" in check.detail
    parsed = ses.SESeal.load(world.seal).copy()
    parsed["cert"] = b"\x30\x03\x02\x01\x01"
    assert verify_seal(parsed.dump(), at=SIGNED_AT).reason == Failure.CERTIFICATE


def test_a_time_stamp_is_carried_but_not_verified(signature: bytes) -> None:
    outer = ses.SESSignature.load(signature)
    bits = b"\x00" + b"token"  # a BIT STRING's contents: no unused bits, then the bytes
    inner = b"\x03" + ses._der_length(len(bits)) + bits
    explicit = b"\xa0" + ses._der_length(len(inner)) + inner
    implicit = b"\x80" + ses._der_length(len(bits)) + bits
    for stamp in (explicit, implicit):
        body = outer.contents + stamp
        stamped = b"\x30" + ses._der_length(len(body)) + body
        check = verify_signature(stamped, DOCUMENT, at=SIGNED_AT)
        assert check.ok, check.detail
        assert check.has_timestamp
    body = outer.contents + b"\x81\x01\x00"  # [1]: not a timeStamp
    assert (
        verify_signature(b"\x30" + ses._der_length(len(body)) + body, at=SIGNED_AT).reason
        == Failure.STRUCTURE
    )


# --- what exactly is signed, and the other readings -------------------------------------------


def _resigned_seal(world: World, form: str) -> bytes:
    parsed = ses._parse_seal(world.seal)
    parts = parsed.info_der + parsed.cert_der_field + parsed.alg_der
    message = {
        "sequence": ses._der_sequence(parts),
        "concatenation": parts,
        "seal_info": parsed.info_der,
    }[form]
    seal = ses.SESeal.load(world.seal).copy()
    seal["signed_value"] = sm2_sign(world.maker.key, message)
    return seal.dump()


@pytest.mark.parametrize("form", ["sequence", "concatenation", "seal_info"])
def test_seal_signature_readings(world: World, form: str) -> None:
    check = verify_seal(_resigned_seal(world, form), at=SIGNED_AT)
    assert check.ok
    assert check.signed_form == form


def test_sign_data_refuses_bad_input(world: World) -> None:
    with pytest.raises(SealError) as refused:
        sign_data(
            DOCUMENT, seal_der=world.seal, signer_private_pem=world.other_signer.key,
            signer_cert_der=world.signer.cert, at=SIGNED_AT,
        )  # fmt: skip
    assert refused.value.reason == Failure.CERTIFICATE
    position = world.seal.index(world.picture) + 10
    with pytest.raises(SealError) as refused:
        world.sign(seal=flip_bit(world.seal, position))
    assert refused.value.reason == Failure.SEAL_SIGNATURE
    with pytest.raises(SealError) as refused:
        world.sign(seal=b"garbage")
    assert refused.value.reason == Failure.STRUCTURE
    with pytest.raises(ValueError, match="ASCII"):
        sign_data(
            DOCUMENT, seal_der=world.seal, signer_private_pem=world.signer.key,
            signer_cert_der=world.signer.cert, property_info="全文", at=SIGNED_AT,
        )  # fmt: skip
    with pytest.raises(TypeError):
        world.sign(at=SIGNED_AT.replace(tzinfo=None))


def test_make_seal_checks_its_arguments(world: World) -> None:
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"picture_type": "GIF"}, ValueError, "picture_type"),
        ({"picture_type": "JPG"}, ValueError, "not a JPG"),
        ({"picture": b"<html/>", "picture_type": "SVG"}, ValueError, "not a SVG"),
        ({"width_mm": 0}, ValueError, "width_mm"),
        ({"height_mm": 501}, ValueError, "height_mm"),
        ({"valid_end": T0}, ValueError, "before"),
        ({"holder_certs": []}, ValueError, "at least one"),
        ({"holder_certs": [b"junk"]}, CertificateError, "certificate"),
        ({"es_id": "印章1"}, ValueError, "ASCII"),
        ({"es_id": ""}, ValueError, "es_id"),
        ({"vendor_id": "x" * 129}, ValueError, "vendor_id"),
        ({"name": " "}, ValueError, "name"),
        ({"seal_type": -1}, ValueError, "seal_type"),
        ({"cert_list_type": 3}, ValueError, "cert_list_type"),
        ({"maker_private_pem": sm2_generate_key()[0]}, CertificateError, "does not belong"),
        ({"valid_start": T0.replace(tzinfo=None)}, TypeError, "timezone"),
    ]
    for change, error, message in cases:
        with pytest.raises(error, match=message):
            world.seal_for(world.signer, **change)


# --- OpenSSL 3 command line -------------------------------------------------------------------


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_openssl_asn1parse_shows_the_structure(tmp_path: Path, signature: bytes) -> None:
    needs_openssl_sm2()
    result = run_openssl(
        "asn1parse", "-inform", "DER", "-i", "-in", _write(tmp_path, "s.der", signature)
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    lines = [line.split(":", 3)[-1] for line in text.splitlines()]
    assert any("IA5STRING" in line and ":ES" in line for line in text.splitlines())
    assert any("IA5STRING" in line and ":zwfw" in line for line in text.splitlines())
    assert any("INTEGER" in line and ":04" in line for line in text.splitlines())
    assert text.count("SM2-with-SM3") >= 2  # signAlgID and signatureAlgID (and in the certificates)
    assert text.count("GENERALIZEDTIME") == 4  # createDate, validStart, validEnd, timeInfo
    assert "UTF8STRING" in text
    assert "BIT STRING" in text
    assert "OCTET STRING" in text
    assert any("doc=licence-1;range=all" in line for line in lines)
    # The certificates inside the OCTET STRINGs parse too.
    cert_offset = next(
        line.split(":")[0].strip()
        for line in text.splitlines()
        if "OCTET STRING" in line and "d=1" in line
    )
    embedded = run_openssl(
        "asn1parse", "-inform", "DER", "-in", tmp_path / "s.der", "-strparse", cert_offset
    )
    assert embedded.returncode == 0
    assert b"SM2-with-SM3" in embedded.stdout


def test_openssl_verifies_both_signatures(tmp_path: Path, world: World, signature: bytes) -> None:
    needs_openssl_sm2()
    parsed = ses._parse_signature(signature)
    seal = parsed.seal
    checks = [
        (
            certificate_info(seal.maker_cert).public_pem,
            ses._der_sequence(seal.info_der + seal.cert_der_field + seal.alg_der),
            seal.signed_value,
        ),
        (certificate_info(parsed.signer_cert).public_pem, parsed.tbs_der, parsed.signature),
    ]
    for index, (public_pem, message, value) in enumerate(checks):
        result = run_openssl(
            "dgst", "-sm3", "-verify", _write(tmp_path, f"pub{index}.pem", public_pem),
            "-sigopt", DISTID, "-signature", _write(tmp_path, f"sig{index}.der", value),
            _write(tmp_path, f"msg{index}.der", message),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert b"Verified OK" in result.stdout


def test_a_signature_value_made_by_openssl_verifies(
    tmp_path: Path, world: World, signature: bytes
) -> None:
    needs_openssl_sm2()
    tbs = ses._parse_signature(signature).tbs_der
    key = _write(tmp_path, "signer.key", world.signer.key)
    made = run_openssl(
        "dgst", "-sm3", "-sign", key, "-sigopt", DISTID, _write(tmp_path, "tbs.der", tbs)
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout != ses._parse_signature(signature).signature
    rebuilt = _reencode(signature, signature=core.OctetBitString(made.stdout))
    assert verify_signature(rebuilt, DOCUMENT, at=SIGNED_AT).ok
    # Without the distinguishing id OpenSSL 3.0 hashes an empty id: not valid here.
    plain = run_openssl("dgst", "-sm3", "-sign", key, tmp_path / "tbs.der").stdout
    rebuilt = _reencode(signature, signature=core.OctetBitString(plain))
    assert verify_signature(rebuilt, DOCUMENT, at=SIGNED_AT).reason == Failure.SIGNATURE


# --- fuzzing ----------------------------------------------------------------------------------


def _mutate(data: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    buffer = bytearray(data)
    position = rng.randrange(len(buffer))
    if kind == 0:  # flip one bit
        buffer[position] ^= 1 << rng.randrange(8)
    elif kind == 1:  # replace a byte with a different one
        buffer[position] = (buffer[position] + rng.randrange(1, 256)) % 256
    elif kind == 2:  # truncate
        del buffer[position:]
    elif kind == 3:  # insert random bytes
        buffer[position:position] = rng.randbytes(rng.randrange(1, 8))
    elif kind == 4:  # delete a run
        del buffer[position : position + rng.randrange(1, 16)]
    else:  # a header-like byte somewhere in the first 200 bytes (lengths and tags live there)
        buffer[rng.randrange(min(200, len(buffer)))] = rng.choice(
            [0x00, 0x30, 0x80, 0x81, 0x82, 0xFF]
        )
    return bytes(buffer)


def test_fuzzed_signatures_never_raise(signature: bytes) -> None:
    rng = random.Random(38540)
    reasons: collections.Counter[str] = collections.Counter()
    for _ in range(500):
        mutated = _mutate(signature, rng)
        if mutated == signature:
            continue
        check = verify_signature(mutated, DOCUMENT, at=SIGNED_AT)
        assert isinstance(check, ses.SignatureCheck)
        assert not check.ok, "a mutated signature verified"
        assert check.reason in set(Failure)
        reasons[str(check.reason)] += 1
    assert reasons[Failure.STRUCTURE] > 100  # most mutations break the DER
    assert len(reasons) >= 3


def test_fuzzed_seals_never_raise(world: World) -> None:
    rng = random.Random(20)
    for _ in range(200):
        mutated = _mutate(world.seal, rng)
        if mutated != world.seal:
            check = verify_seal(mutated, at=SIGNED_AT)
            assert not check.ok
            assert check.reason in set(Failure)


def test_signature_algorithm_oid_is_sm2_with_sm3(signature: bytes) -> None:
    outer = ses.SESSignature.load(signature)
    assert outer["signature_alg_id"].dotted == SM2_WITH_SM3_OID
    assert outer["to_sign"]["eseal"]["sign_alg_id"].dotted == SM2_WITH_SM3_OID
