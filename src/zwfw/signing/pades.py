"""PAdES signatures on the platform's PDFs (licences, notices), with pyHanko.

A licence PDF carries two signatures of different kinds: the SM2 seal signature of GB/T 38540
(an SES_Signature, :mod:`zwfw.signing.ses`) for Chinese verifiers, and this PAdES one so that
any PDF reader (Adobe, poppler's ``pdfsig``, browsers) can tell whether the file was changed
after the node issued it. PDF readers do not know SM2, so the PAdES signature uses ECDSA
P-256 with SHA-256, under a small per-node certificate authority
(:func:`make_node_signing_identity`).

:func:`sign_pdf` adds a PAdES baseline B-B signature (``ETSI.CAdES.detached``, SHA-256) as an
incremental update — the bytes before the signature are untouched — into a new invisible
field, or a visible one with an optional seal image. :func:`verify_pdf` checks integrity,
the signature value and the certificate chain against the given trust roots, offline
(no CRL/OCSP fetching: the node CA publishes none).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asn1crypto import keys, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from pyhanko.sign import signers as signers_module
    from pyhanko.stamp import BaseStampStyle

#: Default name of the signature field sign_pdf creates.
FIELD_NAME = "zwfw-signature"


class PdfSigningError(ValueError):
    """The PDF or the signing material cannot be used (malformed PEM, unreadable PDF …)."""


@dataclass(frozen=True, slots=True)
class PdfCheck:
    """What :func:`verify_pdf` found about a PDF's (last) signature.

    ``valid`` is the bottom line: ``intact`` (the signed bytes hash to the signed digest), the
    signature value verifies, the signer's certificate chains to a trust root and is valid,
    and nothing but allowed changes follows the signature. ``problems`` says why not.
    """

    valid: bool
    intact: bool
    signer: str = ""
    signed_at: dt.datetime | None = None
    reason: str = ""
    trusted: bool = False
    field_name: str = ""
    problems: tuple[str, ...] = ()


# --- identity ----------------------------------------------------------------------------------


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_node_signing_identity(
    common_name: str, organisation: str, *, valid_days: int
) -> tuple[bytes, bytes, bytes]:
    """A new ECDSA P-256 signing key and certificate under a new node CA.

    Returns ``(key_pem, cert_pem, ca_cert_pem)``: the PKCS#8 private key (unencrypted — store
    it like any secret), the signing certificate (key usage digitalSignature and
    nonRepudiation, valid ``valid_days`` from five minutes ago), and the self-signed CA
    certificate (path length 0, valid a year longer), which verifiers use as trust root. The
    CA's private key is discarded once the certificate is issued: renewing makes a new CA.
    """
    if valid_days <= 0:
        raise ValueError("valid_days must be positive")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{common_name} CA", organisation)
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(secrets.randbits(127) | 1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=valid_days + 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(127) | 1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, _pem(cert), _pem(ca_cert)


# --- PEM to asn1crypto -------------------------------------------------------------------------


def _certificates(pem_data: bytes | str | Sequence[bytes | str]) -> list[asn1_x509.Certificate]:
    """Every certificate in one PEM blob (several concatenated) or a list of them."""
    blobs = [pem_data] if isinstance(pem_data, bytes | str) else list(pem_data)
    out = []
    for blob in blobs:
        data = blob.encode("ascii") if isinstance(blob, str) else blob
        try:
            for kind, _headers, der in pem.unarmor(data, multiple=True):
                if kind == "CERTIFICATE":
                    out.append(asn1_x509.Certificate.load(der))
        except ValueError as exc:
            raise PdfSigningError(f"not a PEM certificate: {exc}") from exc
    return out


def _private_key(key_pem: bytes | str) -> keys.PrivateKeyInfo:
    data = key_pem.encode("ascii") if isinstance(key_pem, str) else key_pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise PdfSigningError("not an unencrypted PEM private key") from exc
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return keys.PrivateKeyInfo.load(der)


# --- signing -----------------------------------------------------------------------------------


def sign_pdf(
    pdf_bytes: bytes,
    *,
    key_pem: bytes | str,
    cert_pem: bytes | str,
    ca_chain_pem: bytes | str | Sequence[bytes | str],
    reason: str,
    location: str,
    field_name: str = FIELD_NAME,
    visible_box: tuple[int, int, int, int] | None = None,
    page: int = 0,
    stamp_image: bytes | None = None,
) -> bytes:
    """``pdf_bytes`` with a PAdES B-B signature appended as an incremental update.

    The signature goes into a new field ``field_name`` (it must not exist yet): invisible by
    default, or drawn in ``visible_box`` (x1, y1, x2, y2 in PDF points from the bottom-left)
    on ``page`` (0-based), showing ``stamp_image`` (PNG/JPEG bytes, e.g. the seal) behind the
    signing time. ``ca_chain_pem`` holds the issuing CA certificate(s), embedded so
    verifiers can build the chain. ``reason`` and ``location`` may be Chinese (PDF text
    strings); the visible stamp's own text is kept ASCII because pyHanko's default stamp font
    has no CJK glyphs.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError

    signer = _signer(key_pem, cert_pem, ca_chain_pem)
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    field_spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=page, box=visible_box)
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
        pdf_signer = signers.PdfSigner(
            metadata,
            signer=signer,
            stamp_style=_stamp_style(stamp_image) if visible_box else None,
            new_field_spec=field_spec,
        )
        # A fixed reservation spares pyHanko a trial signature to measure the container
        # (half of the signing time); an ECDSA container with two certificates is ~1.5 KB.
        output = pdf_signer.sign_pdf(
            writer, existing_fields_only=False, bytes_reserved=SIGNATURE_BYTES_RESERVED
        )
    except (PdfError, SigningError) as exc:
        raise PdfSigningError(f"cannot sign this PDF: {exc}") from exc
    return bytes(output.getbuffer())


#: Bytes kept for the CMS container in /Contents (written as hex: twice as many characters).
SIGNATURE_BYTES_RESERVED = 8192


def _signer(
    key_pem: bytes | str, cert_pem: bytes | str, ca_chain_pem: bytes | str | Sequence[bytes | str]
) -> signers_module.SimpleSigner:
    """The pyHanko signer for these PEMs, parsed once per process (parsing costs ~10 ms)."""
    chain = (ca_chain_pem,) if isinstance(ca_chain_pem, bytes | str) else tuple(ca_chain_pem)
    key = (key_pem, cert_pem, chain)
    cached = _SIGNERS.get(key)
    if cached is not None:
        return cached
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    certificates = _certificates(cert_pem)
    if len(certificates) != 1:
        raise PdfSigningError("cert_pem must hold exactly one certificate")
    signer = _der_signer_class()(
        signing_cert=certificates[0],
        signing_key=_private_key(key_pem),
        cert_registry=SimpleCertificateStore.from_certs(_certificates(list(chain))),
    )
    if len(_SIGNERS) > 32:  # a node has a handful of identities; bound it anyway
        _SIGNERS.clear()
    _SIGNERS[key] = signer
    return signer


_SIGNERS: dict[tuple[object, ...], signers_module.SimpleSigner] = {}


# --- the CMS container, encoded directly ----------------------------------------------------------
# pyHanko builds the SignedData as an asn1crypto object tree and re-encodes it, certificates
# included: two thirds of a licence's signing time. The container of a PAdES B-B signature is
# small and fixed in shape (RFC 5652 SignedData, ETSI EN 319 122-1 attributes), so it is
# written here as DER from parts encoded once per signer; pyHanko still does the PDF side.


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _oid(dotted: str) -> bytes:
    from asn1crypto import core

    return core.ObjectIdentifier(dotted).dump()


_SEQUENCE, _SET, _OCTETS, _CONTEXT_0 = 0x30, 0x31, 0x04, 0xA0
_OID_DATA = "1.2.840.113549.1.7.1"
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"
_OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"


@functools.cache
def _der_signer_class() -> type[signers_module.SimpleSigner]:
    """pyHanko's ``SimpleSigner`` with the CMS container written as DER directly (imported
    lazily, like pyHanko itself)."""
    from asn1crypto import cms
    from pyhanko.sign import signers

    class DerSigner(signers.SimpleSigner):
        async def async_sign(
            self, data_digest: bytes, digest_algorithm: str, *args: Any, **kwargs: Any
        ) -> cms.ContentInfo:
            plain = (
                digest_algorithm == "sha256"
                and not args
                and kwargs.get("timestamper") is None
                and kwargs.get("encap_content_info") is None
                and _is_ec(self)
            )
            if not plain:  # anything else: pyHanko's general path
                return await super().async_sign(data_digest, digest_algorithm, *args, **kwargs)
            return cms.ContentInfo.load(_signed_data(self, data_digest))

    return DerSigner


def _is_ec(signer: signers_module.SimpleSigner) -> bool:
    return signer.signing_key.algorithm == "ec"


@functools.lru_cache(maxsize=8)
def _signer_parts(cert_der: bytes, chain: tuple[bytes, ...], key_der: bytes) -> tuple[bytes, ...]:
    """The parts of the container that depend only on the signer (DER), and its key."""
    from asn1crypto import x509 as asn1

    certificate = asn1.Certificate.load(cert_der)
    sha256 = _der(_SEQUENCE, _oid(_OID_SHA256))
    issuer_and_serial = _der(
        _SEQUENCE,
        certificate["tbs_certificate"]["issuer"].dump()
        + certificate["tbs_certificate"]["serial_number"].dump(),
    )
    cert_hash = hashes.Hash(hashes.SHA256())
    cert_hash.update(cert_der)
    # SigningCertificateV2 ::= SEQ { certs SEQ OF ESSCertIDv2 { certHash } } (SHA-256 default)
    signing_certificate = _der(
        _SEQUENCE,
        _oid(_OID_SIGNING_CERTIFICATE_V2)
        + _der(
            _SET,
            _der(_SEQUENCE, _der(_SEQUENCE, _der(_SEQUENCE, _der(_OCTETS, cert_hash.finalize())))),
        ),
    )
    content_type = _der(_SEQUENCE, _oid(_OID_CONTENT_TYPE) + _der(_SET, _oid(_OID_DATA)))
    certificates = _der(_CONTEXT_0, cert_der + b"".join(chain))
    return (
        sha256,
        issuer_and_serial,
        signing_certificate,
        content_type,
        certificates,
        _der(_SEQUENCE, _oid(_OID_ECDSA_SHA256)),
        key_der,
    )


def _signed_data(signer: signers_module.SimpleSigner, data_digest: bytes) -> bytes:
    """ContentInfo(SignedData) with one SignerInfo: ECDSA P-256 / SHA-256 over the attributes."""
    own = signer.signing_cert
    assert own is not None  # set by _signer
    chain = tuple(cert.dump() for cert in signer.cert_registry if cert.dump() != own.dump())
    sha256, issuer_serial, signing_certificate, content_type, certificates, ecdsa, key_der = (
        _signer_parts(own.dump(), chain, signer.signing_key.dump())
    )
    message_digest = _der(
        _SEQUENCE, _oid(_OID_MESSAGE_DIGEST) + _der(_SET, _der(_OCTETS, data_digest))
    )
    # DER: the attributes of a SET OF are in the order of their encodings
    attributes = b"".join(sorted((content_type, message_digest, signing_certificate)))
    key = _ec_key(key_der)
    signature = key.sign(_der(_SET, attributes), ec.ECDSA(hashes.SHA256()))
    signer_info = _der(
        _SEQUENCE,
        b"\x02\x01\x01"  # version 1 (issuerAndSerialNumber)
        + issuer_serial
        + sha256
        + _der(_CONTEXT_0, attributes)  # [0] IMPLICIT signedAttrs
        + ecdsa
        + _der(_OCTETS, signature),
    )
    signed_data = _der(
        _SEQUENCE,
        b"\x02\x01\x01"
        + _der(_SET, sha256)
        + _der(_SEQUENCE, _oid(_OID_DATA))  # detached: no eContent
        + certificates
        + _der(_SET, signer_info),
    )
    return _der(_SEQUENCE, _oid(_OID_SIGNED_DATA) + _der(_CONTEXT_0, signed_data))


@functools.lru_cache(maxsize=8)
def _ec_key(key_der: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_der_private_key(key_der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PdfSigningError("the PDF signing key is not an EC key")
    return key


def _stamp_style(stamp_image: bytes | None) -> BaseStampStyle:
    from pyhanko import stamp
    from pyhanko.pdf_utils import images

    background = None
    if stamp_image is not None:
        from PIL import Image

        background = images.PdfImage(Image.open(io.BytesIO(stamp_image)))
    return stamp.TextStampStyle(
        stamp_text="Digitally signed\n%(ts)s",
        background=background,
        background_opacity=1.0,
        border_width=0,
    )


# --- verification ------------------------------------------------------------------------------


def verify_pdf(
    pdf_bytes: bytes,
    *,
    trust_roots_pem: bytes | str | Sequence[bytes | str],
    field_name: str | None = None,
) -> PdfCheck:
    """Check the signature in ``field_name`` (default: the last one) of a PDF, offline.

    Never raises for a bad PDF: an unreadable file, no signature or a tampered one give a
    :class:`PdfCheck` with ``valid`` False and the reason in ``problems``.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = _certificates(trust_roots_pem)
    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # any failure to parse hostile input means "invalid"
        return PdfCheck(valid=False, intact=False, problems=(f"unreadable PDF: {exc}",))
    if field_name is not None:
        signatures = [sig for sig in signatures if sig.field_name == field_name]
    if not signatures:
        return PdfCheck(valid=False, intact=False, problems=("no signature",))
    embedded = signatures[-1]
    reason = str(embedded.sig_object.get("/Reason", ""))
    try:
        signed_at = embedded.self_reported_timestamp
    except Exception:  # a malformed /M is just an unknown time
        signed_at = None
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = validate_pdf_signature(embedded, context)
    except Exception as exc:  # pyHanko may fail in many ways on a crafted signature
        return PdfCheck(
            valid=False,
            intact=False,
            reason=reason,
            signed_at=signed_at,
            field_name=embedded.field_name,
            problems=(f"cannot validate: {exc}",),
        )
    problems = []
    if not status.intact:
        problems.append("the signed bytes were changed (digest mismatch)")
    elif not status.valid:
        problems.append("the signature value does not verify")
    if not status.trusted:
        problems.append("the signer's certificate does not chain to a trust root")
    if status.intact and status.valid and status.trusted and not status.bottom_line:
        problems.append(f"changes after signing are not allowed (coverage {status.coverage})")
    subject = status.signing_cert.subject if status.signing_cert is not None else None
    signer = ""
    if subject is not None:
        signer = str(subject.native.get("common_name", "")) or subject.human_friendly
    return PdfCheck(
        valid=bool(status.bottom_line),
        intact=bool(status.intact),
        signer=signer,
        signed_at=signed_at,
        reason=reason,
        trusted=bool(status.trusted),
        field_name=embedded.field_name,
        problems=tuple(problems),
    )
