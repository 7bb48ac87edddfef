"""The node's SM2 CA: certificate contents, verification, and OpenSSL 3 interoperability."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import algos, core, keys
from asn1crypto import x509 as asn1_x509

from zwfw.core.crypto import (
    sm2_generate_key,
    sm2_public_from_private,
    sm2_public_point,
    sm2_sign,
)
from zwfw.signing import x509
from zwfw.signing.tests import DISTID, T0, days, flip_bit, needs_openssl_sm2, run_openssl
from zwfw.signing.x509 import (
    SM2_CURVE_OID,
    SM2_WITH_SM3_OID,
    CertificateError,
    certificate_info,
    der_from_pem,
    issue_certificate,
    make_ca,
    pem_from_der,
    public_pem_of,
    verify_certificate,
)

USCC = "91350100M000100Y43"
OTHER_USCC = "91110000600037341L"
AT = T0 + days(10)


@pytest.fixture(scope="module")
def ca() -> tuple[bytes, bytes]:
    return make_ca("某市政务服务 CA", "某市政务服务中心", valid_days=3650, uscc=USCC, not_before=T0)


@pytest.fixture(scope="module")
def holder() -> tuple[bytes, bytes]:
    return sm2_generate_key()


@pytest.fixture(scope="module")
def end_entity(ca: tuple[bytes, bytes], holder: tuple[bytes, bytes]) -> bytes:
    ca_key, ca_cert = ca
    return issue_certificate(
        ca_key,
        ca_cert,
        holder[1],
        common_name="行政审批专用章",
        organisation="某市行政审批局",
        uscc=OTHER_USCC,
        valid_days=365,
        not_before=T0,
    )


# --- contents ---------------------------------------------------------------------------------


def test_ca_is_a_self_signed_sm2_ca(ca: tuple[bytes, bytes]) -> None:
    ca_key, ca_cert = ca
    info = certificate_info(ca_cert)
    assert info.is_ca
    assert info.key_usage == {"key_cert_sign", "crl_sign"}
    assert info.common_name == "某市政务服务 CA"
    assert info.organisation == "某市政务服务中心"
    assert info.uscc == USCC
    assert info.issuer == info.subject
    assert info.inner_algorithm == info.outer_algorithm == SM2_WITH_SM3_OID
    assert info.algorithm_parameters_ok
    assert info.key_identifier == info.authority_key_identifier
    assert info.key_identifier is not None
    assert len(info.key_identifier) == 20
    assert (info.not_before, info.not_after) == (T0, T0 + days(3650))
    assert info.unknown_critical == frozenset()
    assert sm2_public_point(public_pem_of(ca_cert)) == info.public_point
    # The key returned is the certificate's.
    assert verify_certificate(ca_cert, ca_cert, at=AT)
    cert = asn1_x509.Certificate.load(ca_cert)
    assert cert["tbs_certificate"]["version"].native == "v3"
    spki = cert["tbs_certificate"]["subject_public_key_info"]["algorithm"]
    assert spki["algorithm"].dotted == "1.2.840.10045.2.1"
    assert spki["parameters"].chosen.dotted == SM2_CURVE_OID
    extensions = {
        e["extn_id"].native: e["critical"].native for e in cert["tbs_certificate"]["extensions"]
    }
    assert extensions == {
        "basic_constraints": True,
        "key_usage": True,
        "key_identifier": False,
        "authority_key_identifier": False,
    }
    assert sm2_public_point(sm2_public_from_private(ca_key)) == info.public_point


def test_end_entity_certificate(
    ca: tuple[bytes, bytes], holder: tuple[bytes, bytes], end_entity: bytes
) -> None:
    info = certificate_info(end_entity)
    ca_info = certificate_info(ca[1])
    assert not info.is_ca
    assert info.key_usage == {"digital_signature", "non_repudiation"}
    assert info.uscc == OTHER_USCC
    assert info.issuer == ca_info.subject
    assert info.authority_key_identifier == ca_info.key_identifier
    assert info.public_point == sm2_public_point(holder[1])
    assert verify_certificate(end_entity, ca[1], at=AT)
    assert info.valid_at(AT)
    assert not info.valid_at(T0 + days(366))


def test_encryption_certificates_have_encipherment_usage(
    ca: tuple[bytes, bytes], holder: tuple[bytes, bytes]
) -> None:
    cert = issue_certificate(
        *ca, holder[1], common_name="张三", organisation="个人", uscc=None, valid_days=30,
        usage="encryption", not_before=T0,
    )  # fmt: skip
    info = certificate_info(cert)
    assert info.key_usage == {"key_encipherment", "data_encipherment"}
    assert info.uscc is None


def test_validity_from_2050_uses_generalized_time() -> None:
    start = T0.replace(year=2049, month=6)
    _key, cert = make_ca("Late CA", "Org", valid_days=400, not_before=start)
    validity = asn1_x509.Certificate.load(cert)["tbs_certificate"]["validity"]
    assert validity["not_before"].name == "utc_time"
    assert validity["not_after"].name == "general_time"
    assert certificate_info(cert).not_after == start + days(400)
    assert verify_certificate(cert, cert, at=start + days(399))


def test_pem_helpers(end_entity: bytes) -> None:
    pem = pem_from_der(end_entity)
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----\n")
    assert max(len(line) for line in pem.splitlines()) == 64
    assert der_from_pem(pem) == end_entity
    assert der_from_pem(pem.decode()) == end_entity
    assert der_from_pem(b"junk\n" + pem + b"more junk") == end_entity
    with pytest.raises(CertificateError):
        der_from_pem(b"no pem here")
    with pytest.raises(CertificateError):
        der_from_pem(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")


# --- verification fails -----------------------------------------------------------------------


def test_verification_is_bound_to_the_validity_window(
    ca: tuple[bytes, bytes], end_entity: bytes
) -> None:
    assert not verify_certificate(end_entity, ca[1], at=T0 - days(1))
    assert verify_certificate(end_entity, ca[1], at=T0)
    assert verify_certificate(end_entity, ca[1], at=T0 + days(365))
    assert not verify_certificate(end_entity, ca[1], at=T0 + days(365.01))
    problem = x509.certificate_problem(end_entity, ca[1], at=T0 + days(400))
    assert problem is not None
    assert "valid from" in problem


def test_verification_fails_for_another_ca(end_entity: bytes) -> None:
    _key, other_ca = make_ca(
        "某市政务服务 CA", "某市政务服务中心", valid_days=3650, uscc=USCC, not_before=T0
    )
    # Same name, different key: only the signature tells them apart.
    assert not verify_certificate(end_entity, other_ca, at=AT)
    problem = x509.certificate_problem(end_entity, other_ca, at=AT)
    assert problem is not None
    assert "signature" in problem
    _key, named_differently = make_ca("Other CA", "Other", valid_days=3650, not_before=T0)
    assert "not issued by" in (x509.certificate_problem(end_entity, named_differently, at=AT) or "")


def test_verification_fails_for_tampering_and_garbage(
    ca: tuple[bytes, bytes], end_entity: bytes
) -> None:
    common_name = "行政审批专用章".encode()
    index = end_entity.index(common_name)
    assert not verify_certificate(flip_bit(end_entity, index + 1), ca[1], at=AT)
    assert not verify_certificate(flip_bit(end_entity, len(end_entity) - 1), ca[1], at=AT)
    for garbage in (b"", os.urandom(300), end_entity[:-1], end_entity + b"\x00", b"\x30\x00"):
        assert not verify_certificate(garbage, ca[1], at=AT)
        assert not verify_certificate(end_entity, garbage, at=AT)
    assert not verify_certificate(None, ca[1], at=AT)  # type: ignore[arg-type]


def test_an_end_entity_cannot_issue(ca: tuple[bytes, bytes], end_entity: bytes) -> None:
    assert "not a CA" in (x509.certificate_problem(end_entity, end_entity, at=AT) or "")
    with pytest.raises(CertificateError, match="not a CA"):
        issue_certificate(
            *ca[:1], end_entity, sm2_generate_key()[1], common_name="x", organisation="y",
            uscc=None, valid_days=1, not_before=T0,
        )  # fmt: skip


def test_wrong_user_id_fails(ca: tuple[bytes, bytes], end_entity: bytes) -> None:
    assert not verify_certificate(end_entity, ca[1], at=AT, uid=b"")
    assert not verify_certificate(end_entity, ca[1], at=AT, uid=b"1234567812345679")


def _sign_custom(
    ca: tuple[bytes, bytes], subject_public: bytes, extensions: list[dict[str, object]] | None
) -> bytes:
    ca_key, ca_cert = ca
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": 7,
            "signature": {"algorithm": SM2_WITH_SM3_OID},
            "issuer": asn1_x509.Certificate.load(ca_cert).subject,
            "validity": {
                "not_before": asn1_x509.Time(name="utc_time", value=T0),
                "not_after": asn1_x509.Time(name="utc_time", value=T0 + days(30)),
            },
            "subject": asn1_x509.Name.build({"common_name": "custom"}),
            "subject_public_key_info": keys.PublicKeyInfo.load(
                der_from_pem(subject_public, "PUBLIC KEY")
            ),
        }
    )
    if extensions is not None:
        tbs["extensions"] = extensions
    return asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": SM2_WITH_SM3_OID},
            "signature_value": sm2_sign(ca_key, tbs.dump()),
        }
    ).dump()


def test_unknown_critical_extensions_are_refused(
    ca: tuple[bytes, bytes], holder: tuple[bytes, bytes]
) -> None:
    for plain in (_sign_custom(ca, holder[1], None), _sign_custom(ca, holder[1], [])):
        assert verify_certificate(plain, ca[1], at=AT)
        assert certificate_info(plain).key_usage is None
    unknown = {
        "extn_id": "1.2.3.4.5",
        "critical": True,
        "extn_value": core.ParsableOctetString(b"x"),
    }
    critical = _sign_custom(ca, holder[1], [unknown])
    assert certificate_info(critical).unknown_critical == {"1.2.3.4.5"}
    assert not verify_certificate(critical, ca[1], at=AT)
    unknown["critical"] = False
    assert verify_certificate(_sign_custom(ca, holder[1], [unknown]), ca[1], at=AT)


def test_non_sm2_certificates_are_refused(ca: tuple[bytes, bytes]) -> None:
    cert = asn1_x509.Certificate.load(ca[1])
    tbs = cert["tbs_certificate"].copy()
    tbs["subject_public_key_info"] = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": ("named", "secp256r1")},
            "public_key": bytes.fromhex(
                "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
            ),
        }
    )
    other_curve = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": cert["signature_algorithm"],
            "signature_value": cert["signature_value"].native,
        }
    ).dump()
    with pytest.raises(CertificateError, match="SM2 curve"):
        certificate_info(other_curve)
    assert not verify_certificate(other_curve, ca[1], at=AT)


# --- issuing refuses --------------------------------------------------------------------------


def test_issuing_checks_its_arguments(ca: tuple[bytes, bytes], holder: tuple[bytes, bytes]) -> None:
    ca_key, ca_cert = ca
    good = {
        "common_name": "x",
        "organisation": "y",
        "uscc": OTHER_USCC,
        "valid_days": 30,
        "not_before": T0,
    }
    issue_certificate(ca_key, ca_cert, holder[1], **good)  # type: ignore[arg-type]
    bad: list[tuple[dict[str, object], str]] = [
        ({"uscc": "91350100M000100Y44"}, "统一社会信用代码"),
        ({"usage": "tls"}, "usage"),
        ({"valid_days": 0}, "valid_days"),
        ({"valid_days": 4000}, "within the CA"),
        ({"not_before": T0 - days(1)}, "within the CA"),
        ({"common_name": "  "}, "common name"),
        ({"organisation": "x" * 65}, "64"),
        ({"not_before": T0.replace(tzinfo=None)}, "timezone"),
    ]
    for change, message in bad:
        with pytest.raises(CertificateError, match=message):
            issue_certificate(ca_key, ca_cert, holder[1], **{**good, **change})  # type: ignore[arg-type]
    other_key, _ = sm2_generate_key()
    with pytest.raises(CertificateError, match="does not belong"):
        issue_certificate(other_key, ca_cert, holder[1], **good)  # type: ignore[arg-type]
    with pytest.raises(CertificateError, match=r"USCC|统一社会信用代码"):
        make_ca("x", "y", valid_days=10, uscc="not a uscc")


# --- asn1crypto's global maps -----------------------------------------------------------------


def test_importing_leaves_asn1cryptos_oid_maps_alone() -> None:
    """Other asn1crypto users (pyHanko) see the same OID names with or without this package."""
    script = (
        "import json\n"
        "from asn1crypto import algos, keys, x509\n"
        "maps = lambda: json.dumps([algos.SignedDigestAlgorithmId._map, "
        "algos.DigestAlgorithmId._map, keys.NamedCurve._map, keys.PublicKeyAlgorithmId._map, "
        "x509.NameType._map], sort_keys=True)\n"
        "before = maps()\n"
        "import zwfw.signing\n"
        "assert maps() == before\n"
    )
    src = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(src)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()


def test_verification_works_when_another_package_names_the_oids(
    monkeypatch: pytest.MonkeyPatch, ca: tuple[bytes, bytes], end_entity: bytes
) -> None:
    """The module compares dotted OIDs, so names registered by someone else change nothing."""
    monkeypatch.setitem(algos.SignedDigestAlgorithmId._map, SM2_WITH_SM3_OID, "sm2_with_sm3")
    monkeypatch.setitem(keys.NamedCurve._map, SM2_CURVE_OID, "sm2p256v1")
    x509._parse.cache_clear()
    x509._signature_valid.cache_clear()
    try:
        assert verify_certificate(end_entity, ca[1], at=AT)
    finally:
        x509._parse.cache_clear()


# --- OpenSSL 3 command line -------------------------------------------------------------------


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_openssl_parses_our_certificates_as_sm2(
    tmp_path: Path, ca: tuple[bytes, bytes], end_entity: bytes
) -> None:
    needs_openssl_sm2()
    ca_text = run_openssl(
        "x509", "-inform", "DER", "-noout", "-text", "-in", _write(tmp_path, "ca.der", ca[1])
    )
    assert ca_text.returncode == 0, ca_text.stderr
    text = ca_text.stdout.decode()
    assert text.count("Signature Algorithm: SM2-with-SM3") == 2
    assert "ASN1 OID: SM2" in text
    assert "CA:TRUE" in text
    assert "Certificate Sign, CRL Sign" in text
    assert f"serialNumber = {USCC}" in text
    ee_text = run_openssl(
        "x509", "-inform", "DER", "-noout", "-text", "-in", _write(tmp_path, "ee.der", end_entity)
    ).stdout.decode()
    assert "Digital Signature, Non Repudiation" in ee_text
    assert "CA:FALSE" in ee_text
    assert "ASN1 OID: SM2" in ee_text


def test_openssl_verify_accepts_our_chain_with_the_default_distid(
    tmp_path: Path, ca: tuple[bytes, bytes], end_entity: bytes
) -> None:
    needs_openssl_sm2()
    ca_pem = _write(tmp_path, "ca.pem", pem_from_der(ca[1]))
    ee_pem = _write(tmp_path, "ee.pem", pem_from_der(end_entity))
    # -attime: the certificates are valid from 2026-01-01 (the tests' fixed clock).
    attime = str(int(AT.timestamp()))
    ok = run_openssl("verify", "-attime", attime, "-vfyopt", DISTID, "-CAfile", ca_pem, ee_pem)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert b"OK" in ok.stdout
    # The pitfall: without -vfyopt, OpenSSL 3.0 hashes an empty distinguishing id.
    no_distid = run_openssl("verify", "-attime", attime, "-CAfile", ca_pem, ee_pem)
    assert no_distid.returncode != 0
    _key, other_ca = make_ca(
        "某市政务服务 CA", "某市政务服务中心", valid_days=3650, uscc=USCC, not_before=T0
    )
    other = _write(tmp_path, "other.pem", pem_from_der(other_ca))
    assert (
        run_openssl(
            "verify", "-attime", attime, "-vfyopt", DISTID, "-CAfile", other, ee_pem
        ).returncode
        != 0
    )


def test_openssl_dgst_verifies_the_ca_self_signature(
    tmp_path: Path, ca: tuple[bytes, bytes]
) -> None:
    needs_openssl_sm2()
    info = certificate_info(ca[1])
    result = run_openssl(
        "dgst", "-sm3", "-verify", _write(tmp_path, "ca_pub.pem", info.public_pem),
        "-sigopt", DISTID, "-signature", _write(tmp_path, "sig.der", info.signature),
        _write(tmp_path, "tbs.der", info.tbs),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b"Verified OK" in result.stdout


def test_certificates_made_by_openssl_verify_here(tmp_path: Path) -> None:
    needs_openssl_sm2()
    ca_key = tmp_path / "ca.key"
    ee_key = tmp_path / "ee.key"
    assert run_openssl("genpkey", "-algorithm", "SM2", "-out", ca_key).returncode == 0
    assert run_openssl("genpkey", "-algorithm", "SM2", "-out", ee_key).returncode == 0
    req = ("req", "-x509", "-new", "-key", ca_key, "-sm3", "-days", "30", "-outform", "DER")
    with_id = run_openssl(*req, "-sigopt", DISTID, "-subj", "/C=CN/O=OpenSSL CA/CN=ca")
    assert with_id.returncode == 0, with_id.stderr
    ca_der = with_id.stdout
    info = certificate_info(ca_der)
    assert info.is_ca
    assert info.organisation == "OpenSSL CA"
    assert verify_certificate(ca_der, ca_der)
    # Without -sigopt OpenSSL signs with the empty id: refused by default, accepted with uid=b"".
    without_id = run_openssl(*req, "-subj", "/C=CN/O=OpenSSL CA/CN=ca").stdout
    assert not verify_certificate(without_id, without_id)
    assert verify_certificate(without_id, without_id, uid=b"")
    # An end-entity certificate issued by the OpenSSL CA.
    csr = tmp_path / "ee.csr"
    made = run_openssl(
        "req", "-new", "-key", ee_key, "-sm3", "-sigopt", DISTID, "-subj", "/C=CN/O=X/CN=ee",
        "-out", csr,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    ca_pem = _write(tmp_path, "ca.pem", pem_from_der(ca_der))
    issued = run_openssl(
        "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-sm3", "-days", "10",
        "-sigopt", DISTID, "-vfyopt", DISTID, "-outform", "DER",
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    assert verify_certificate(issued.stdout, ca_der)
    assert not verify_certificate(issued.stdout, ca_der, uid=b"")
