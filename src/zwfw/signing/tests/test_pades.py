"""PAdES signatures with pyHanko, checked by our verifier and by poppler's pdfsig/pdftotext."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from zwfw.cases import fonts
from zwfw.signing.pades import (
    PdfSigningError,
    make_node_signing_identity,
    sign_pdf,
    verify_pdf,
)

TEXT = ["不予受理通知书", "申请人：厦门市示例科技有限公司", "统一社会信用代码：91350100M000100Y43"]
PDFSIG_VALID = "  - Signature Validation: Signature is Valid."
PDFSIG_UNTRUSTED = "  - Certificate Validation: Certificate issuer isn't Trusted."
PDFSIG_TAMPERED = "  - Signature Validation: Digest Mismatch."

Identity = tuple[bytes, bytes, bytes]


@pytest.fixture(scope="module")
def identity() -> Identity:
    return make_node_signing_identity("厦门市政务服务节点", "厦门市行政审批局", valid_days=30)


@pytest.fixture(scope="module")
def pdf() -> bytes:
    status = fonts.font_status()
    if not status["embedded"]:
        pytest.skip("no TrueType CJK font installed (apt-get install fonts-wqy-zenhei)")
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setFont(status["name"], 14)
    for number, line in enumerate(TEXT):
        page.drawString(72, 760 - 24 * number, line)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _sign(pdf: bytes, identity: Identity, **kwargs: object) -> bytes:
    key_pem, cert_pem, ca_pem = identity
    options: dict[str, object] = {"reason": "电子文书签发", "location": "厦门市", **kwargs}
    return sign_pdf(pdf, key_pem=key_pem, cert_pem=cert_pem, ca_chain_pem=ca_pem, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def signed(pdf: bytes, identity: Identity) -> bytes:
    return _sign(pdf, identity)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) is not installed")
    return path


def _pdfsig(data: bytes, tmp_path: Path) -> list[str]:
    target = tmp_path / "signed.pdf"
    target.write_bytes(data)
    result = subprocess.run(
        [_tool("pdfsig"), str(target)], capture_output=True, text=True, check=False, timeout=60
    )
    return result.stdout.splitlines()


def _tamper(data: bytes, marker: bytes) -> bytes:
    position = data.index(marker)
    return data[:position] + bytes([data[position] ^ 0x20]) + data[position + 1 :]


# --- identity ----------------------------------------------------------------------------------


def test_node_signing_identity(identity: Identity) -> None:
    key_pem, cert_pem, ca_pem = identity
    assert key_pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    cert = x509.load_pem_x509_certificate(cert_pem)
    ca = x509.load_pem_x509_certificate(ca_pem)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert cert.issuer == ca.subject == ca.issuer
    cert.verify_directly_issued_by(ca)
    ca.verify_directly_issued_by(ca)
    assert cert.subject.rfc4514_string() == "CN=厦门市政务服务节点,O=厦门市行政审批局,C=CN"
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not usage.key_cert_sign
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime == dt.timedelta(days=30)
    assert ca.not_valid_after_utc > cert.not_valid_after_utc
    assert cert.serial_number != ca.serial_number
    with pytest.raises(ValueError, match="positive"):
        make_node_signing_identity("x", "y", valid_days=0)


# --- signing and verifying ---------------------------------------------------------------------


def test_signed_pdf_verifies(pdf: bytes, signed: bytes, identity: Identity) -> None:
    assert signed.startswith(pdf)  # an incremental update: the original bytes are untouched
    check = verify_pdf(signed, trust_roots_pem=identity[2])
    assert check.valid, check.problems
    assert (check.intact, check.trusted, check.problems) == (True, True, ())
    assert (check.signer, check.reason, check.field_name) == (
        "厦门市政务服务节点",
        "电子文书签发",
        "zwfw-signature",
    )
    assert check.signed_at is not None
    assert abs(dt.datetime.now(dt.UTC) - check.signed_at) < dt.timedelta(minutes=5)


def test_pdfsig_accepts_the_signature(signed: bytes, tmp_path: Path) -> None:
    lines = _pdfsig(signed, tmp_path)
    assert "  - Signature Field Name: zwfw-signature" in lines
    assert "  - Signer Certificate Common Name: 厦门市政务服务节点" in lines
    assert "  - Signing Hash Algorithm: SHA-256" in lines
    assert "  - Signature Type: ETSI.CAdES.detached" in lines
    assert "  - Total document signed" in lines
    assert PDFSIG_VALID in lines
    # pdfsig has no trust in our node CA: the integrity verdict is what matters.
    assert PDFSIG_UNTRUSTED in lines


def test_pdftotext_still_shows_the_text(signed: bytes, tmp_path: Path) -> None:
    target = tmp_path / "signed.pdf"
    target.write_bytes(signed)
    result = subprocess.run(
        [_tool("pdftotext"), "-layout", str(target), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for line in TEXT:
        assert line in result.stdout


def test_one_byte_tampering_is_detected(signed: bytes, identity: Identity, tmp_path: Path) -> None:
    tampered = _tamper(signed, b"ReportLab")  # the producer name, inside the signed range
    assert len(tampered) == len(signed)
    assert sum(a != b for a, b in zip(signed, tampered, strict=True)) == 1
    check = verify_pdf(tampered, trust_roots_pem=identity[2])
    assert (check.valid, check.intact) == (False, False)
    assert "the signed bytes were changed (digest mismatch)" in check.problems
    lines = _pdfsig(tampered, tmp_path)
    assert PDFSIG_TAMPERED in lines
    assert PDFSIG_VALID not in lines


def test_tampered_page_content_is_detected(pdf: bytes, identity: Identity) -> None:
    signed = _sign(pdf, identity)
    stream_start = signed.index(b"stream\n") + len(b"stream\n") + 10  # in the first stream
    tampered = (
        signed[:stream_start] + bytes([signed[stream_start] ^ 1]) + signed[stream_start + 1 :]
    )
    check = verify_pdf(tampered, trust_roots_pem=identity[2])
    assert not check.valid
    assert not check.intact


def test_untrusted_root(signed: bytes) -> None:
    _, _, other_ca = make_node_signing_identity("其他节点", "其他机关", valid_days=1)
    check = verify_pdf(signed, trust_roots_pem=other_ca)
    assert (check.valid, check.intact, check.trusted) == (False, True, False)
    assert check.problems == ("the signer's certificate does not chain to a trust root",)


def test_visible_signature_with_seal_image(pdf: bytes, identity: Identity, tmp_path: Path) -> None:
    seal = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(seal).ellipse((5, 5, 195, 195), outline=(220, 0, 0), width=8)
    buffer = io.BytesIO()
    seal.save(buffer, "PNG")
    signed = _sign(pdf, identity, visible_box=(400, 80, 520, 200), stamp_image=buffer.getvalue())
    check = verify_pdf(signed, trust_roots_pem=identity[2])
    assert check.valid, check.problems
    lines = _pdfsig(signed, tmp_path)
    assert PDFSIG_VALID in lines
    widget = _field(signed, "zwfw-signature")
    assert [float(value) for value in widget["/Rect"]] == [400, 80, 520, 200]
    assert "/AP" in widget  # an appearance stream: the stamp is drawn


def _field(data: bytes, name: str) -> dict:  # type: ignore[type-arg]
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data))
    for reference in reader.root["/AcroForm"]["/Fields"]:
        field = reference.get_object()
        if field.get("/T") == name:
            return field  # type: ignore[no-any-return]
    raise AssertionError(f"no field {name}")


def test_second_signature_keeps_the_first_valid(
    signed: bytes, identity: Identity, tmp_path: Path
) -> None:
    twice = _sign(signed, identity, field_name="zwfw-signature-2", reason="复核")
    first = verify_pdf(twice, trust_roots_pem=identity[2], field_name="zwfw-signature")
    second = verify_pdf(twice, trust_roots_pem=identity[2])
    assert first.valid, first.problems
    assert (second.valid, second.field_name, second.reason) == (True, "zwfw-signature-2", "复核")
    lines = _pdfsig(twice, tmp_path)
    assert lines.count(PDFSIG_VALID) == 2


def test_existing_field_name_is_refused(signed: bytes, identity: Identity) -> None:
    with pytest.raises(PdfSigningError):
        _sign(signed, identity)


def test_unsigned_and_unreadable_pdfs(pdf: bytes, identity: Identity) -> None:
    unsigned = verify_pdf(pdf, trust_roots_pem=identity[2])
    assert (unsigned.valid, unsigned.problems) == (False, ("no signature",))
    garbage = verify_pdf(b"not a pdf", trust_roots_pem=identity[2])
    assert not garbage.valid
    assert garbage.problems[0].startswith("unreadable PDF")
    assert verify_pdf(pdf[: len(pdf) // 2], trust_roots_pem=identity[2]).valid is False
    missing = verify_pdf(pdf, trust_roots_pem=identity[2], field_name="nope")
    assert missing.problems == ("no signature",)


def test_bad_signing_material(pdf: bytes, identity: Identity) -> None:
    key_pem, cert_pem, ca_pem = identity
    with pytest.raises(PdfSigningError, match="private key"):
        sign_pdf(
            pdf, key_pem=b"junk", cert_pem=cert_pem, ca_chain_pem=ca_pem, reason="r", location="l"
        )
    with pytest.raises(PdfSigningError, match="exactly one certificate"):
        sign_pdf(
            pdf,
            key_pem=key_pem,
            cert_pem=cert_pem + ca_pem,
            ca_chain_pem=ca_pem,
            reason="r",
            location="l",
        )
    with pytest.raises(PdfSigningError, match="cannot sign"):
        sign_pdf(
            b"%PDF-1.4 broken",
            key_pem=key_pem,
            cert_pem=cert_pem,
            ca_chain_pem=ca_pem,
            reason="r",
            location="l",
        )


def test_cms_container_is_pades_baseline_b(signed: bytes, identity: Identity) -> None:
    """The hand-encoded container: detached SignedData, the three PAdES B-B signed attributes
    in DER order (no signing-time: PAdES puts the claimed time in the signature dictionary),
    the signer's certificate hash, and an ECDSA value over the attributes that verifies."""
    import hashlib
    import re

    from asn1crypto import cms
    from cryptography.hazmat.primitives import hashes

    contents = re.search(rb"/Contents\s*<([0-9A-Fa-f]+)>", signed)
    assert contents is not None
    info = cms.ContentInfo.load(bytes.fromhex(contents[1].decode()).rstrip(b"\0"))
    signed_data = info["content"]
    assert info["content_type"].native == "signed_data"
    assert signed_data["encap_content_info"]["content"].native is None  # detached
    signer_info = signed_data["signer_infos"][0]
    attributes = signer_info["signed_attrs"]
    assert {a["type"].native for a in attributes} == {
        "content_type",
        "message_digest",
        "signing_certificate_v2",
    }
    encodings = [a.dump() for a in attributes]
    assert encodings == sorted(encodings)  # DER: a SET OF in the order of its encodings
    by_type = {a["type"].native: a["values"][0] for a in attributes}
    from cryptography.hazmat.primitives.serialization import Encoding

    _key_pem, cert_pem, _ca_pem = identity
    certificate = x509.load_pem_x509_certificate(cert_pem)
    certificate_der = certificate.public_bytes(Encoding.DER)
    assert by_type["signing_certificate_v2"]["certs"][0]["cert_hash"].native == (
        hashlib.sha256(certificate_der).digest()
    )
    # the byte ranges' digest is the messageDigest attribute
    ranges = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", signed)
    assert ranges is not None
    a, b, c, d = (int(value) for value in ranges.groups())
    digest = hashlib.sha256(signed[a : a + b] + signed[c : c + d]).digest()
    assert by_type["message_digest"].native == digest
    public_key = certificate.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(
        signer_info["signature"].native,
        attributes.untag().dump(),  # the SET OF encoding is what was signed
        ec.ECDSA(hashes.SHA256()),
    )
