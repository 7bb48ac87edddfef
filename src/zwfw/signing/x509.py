"""An SM2 certificate authority for the node: X.509 v3 certificates signed with SM2-with-SM3.

The node's CA certifies the keys that make seals (制章者) and sign with them (签章者), so that a
seal or a signature can be checked back to a known authority (GB/T 38540 checks the maker's
and the signer's certificates). Everything is DER built with asn1crypto; the signatures come
from :func:`zwfw.core.crypto.sm2_sign`.

Profile (GB/T 20518 / RFC 5280 shapes, as ``openssl x509 -text`` shows them):

* subject public key: ``id-ecPublicKey`` (1.2.840.10045.2.1) with the named curve
  ``sm2p256v1`` (1.2.156.10197.1.301) and an uncompressed point;
* signature algorithm (inner and outer): ``SM2-with-SM3`` (1.2.156.10197.1.501), parameters
  absent; the signature value is the DER ``SEQUENCE {r, s}`` made by ``sm2_sign`` over the DER
  ``TBSCertificate`` with the user id ``1234567812345678`` (GM/T 0009's default);
* CA: basicConstraints ``CA:TRUE`` (critical), keyUsage keyCertSign + cRLSign (critical);
* end entity: basicConstraints ``CA:FALSE`` (critical), keyUsage digitalSignature +
  nonRepudiation (critical) for seal and signing keys, keyEncipherment + dataEncipherment for
  encryption keys (Chinese PKIs issue separate signing and encryption certificates);
* both: subject and authority key identifiers, the first 160 bits of SM3 over the public key's
  bit string (RFC 5280 4.2.1.2 allows any method; SM3 keeps SHA-1 out of the certificates);
* names: C=CN, O=organisation, CN=common name and, for an organisation, its 统一社会信用代码 as
  ``serialNumber`` (2.5.4.5);
* validity: UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 4.1.2.5).

OpenSSL 3 interoperability (checked by the tests with the 3.0 CLI): ``openssl x509 -text``
shows the certificates as SM2. ``openssl verify`` hashes an *empty* distinguishing id unless
it is given ``-vfyopt distid:1234567812345678``; with it, it accepts our end-entity
certificates. ``openssl req -x509`` and ``openssl x509 -req`` sign with the empty id too
unless given ``-sigopt distid:1234567812345678``; :func:`verify_certificate` accepts what
OpenSSL made with that option, or with ``uid=b""`` what it made without.

asn1crypto's OID maps are not touched: this module only ever compares dotted OIDs, so it
works the same whether or not another package registers names for the SM2/SM3 OIDs, and it
changes nothing that another asn1crypto user (pyHanko) sees.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import secrets
from dataclasses import dataclass

from asn1crypto import core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509

from zwfw.core.crypto import (
    DEFAULT_SM2_UID,
    CryptoError,
    sm2_generate_key,
    sm2_public_from_private,
    sm2_public_pem_from_point,
    sm2_public_point,
    sm2_sign,
    sm2_verify,
    sm3,
)

__all__ = [
    "EC_PUBLIC_KEY_OID",
    "SM2_CURVE_OID",
    "SM2_WITH_SM3_OID",
    "SM3_OID",
    "CertificateError",
    "CertificateInfo",
    "certificate_info",
    "der_from_pem",
    "issue_certificate",
    "make_ca",
    "pem_from_der",
    "public_pem_of",
    "verify_certificate",
]

EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"
SM2_CURVE_OID = "1.2.156.10197.1.301"
SM2_WITH_SM3_OID = "1.2.156.10197.1.501"
SM3_OID = "1.2.156.10197.1.401"

USAGES = {
    "seal": frozenset({"digital_signature", "non_repudiation"}),
    "signature": frozenset({"digital_signature", "non_repudiation"}),
    "encryption": frozenset({"key_encipherment", "data_encipherment"}),
}
CA_USAGE = frozenset({"key_cert_sign", "crl_sign"})
# Extensions this module understands; a certificate marking any other one critical is refused
# (RFC 5280 4.2: a verifier must reject a critical extension it does not process).
_KNOWN_CRITICAL = frozenset(
    {
        "basic_constraints",
        "key_usage",
        "extended_key_usage",
        "subject_alt_name",
        "key_identifier",
        "authority_key_identifier",
    }
)
_UTC_TIME_LIMIT = 2050
MAX_VALID_DAYS = 36500


class CertificateError(CryptoError):
    """A certificate that cannot be made or parsed (a ``ValueError``)."""


# --- PEM --------------------------------------------------------------------------------------


def pem_from_der(der: bytes, label: str = "CERTIFICATE") -> bytes:
    """PEM armour (64-character lines, as OpenSSL writes it) around ``der``."""
    text = base64.b64encode(bytes(der)).decode("ascii")
    lines = "\n".join(text[i : i + 64] for i in range(0, len(text), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n".encode("ascii")


def der_from_pem(pem: bytes | str, label: str = "CERTIFICATE") -> bytes:
    """The DER body of the first ``label`` PEM block; raises :class:`CertificateError`."""
    text = pem.decode("ascii", "replace") if isinstance(pem, bytes | bytearray) else str(pem)
    begin_marker, end_marker = f"-----BEGIN {label}-----", f"-----END {label}-----"
    begin = text.find(begin_marker)
    end = text.find(end_marker, begin + len(begin_marker))
    if begin < 0 or end < 0:
        raise CertificateError(f"no PEM block labelled {label!r}")
    try:
        return base64.b64decode(
            "".join(text[begin + len(begin_marker) : end].split()), validate=True
        )
    except (binascii.Error, ValueError):
        raise CertificateError("malformed base64 in the PEM block") from None


# --- parsing ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class CertificateInfo:
    """What the signing code needs from a parsed SM2 certificate (immutable, safe to share)."""

    der: bytes
    tbs: bytes  # the DER TBSCertificate exactly as received: what the issuer signed
    signature: bytes  # DER SEQUENCE {r, s}
    inner_algorithm: str  # dotted OIDs of the TBSCertificate's and the outer algorithm
    outer_algorithm: str
    algorithm_parameters_ok: bool  # absent (or NULL) parameters in both
    serial_number: int
    issuer: str  # asn1crypto's normalised form (RFC 5280 7.1 comparison), for matching
    subject: str
    subject_text: str  # human-readable, for messages
    common_name: str | None
    organisation: str | None
    uscc: str | None  # subject serialNumber
    not_before: dt.datetime
    not_after: dt.datetime
    is_ca: bool
    key_usage: frozenset[str] | None  # None: no keyUsage extension
    unknown_critical: frozenset[str]
    key_identifier: bytes | None
    authority_key_identifier: bytes | None
    public_point: tuple[int, int]
    public_pem: bytes
    fingerprint: str  # SM3 of the DER, hex

    def valid_at(self, when: dt.datetime) -> bool:
        return self.not_before <= when <= self.not_after


def _name_attribute(name: asn1_x509.Name, attribute: str) -> str | None:
    value = name.native.get(attribute)
    if isinstance(value, list):  # repeated attribute: the first one
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _point_of(public_key_info: asn1_keys.PublicKeyInfo) -> tuple[int, int]:
    algorithm = public_key_info["algorithm"]
    if algorithm["algorithm"].dotted != EC_PUBLIC_KEY_OID:
        raise CertificateError("the certificate's key is not an elliptic-curve key")
    parameters = algorithm["parameters"]
    if parameters.name != "named" or parameters.chosen.dotted != SM2_CURVE_OID:
        raise CertificateError("the certificate's key is not on the SM2 curve (sm2p256v1)")
    point = public_key_info["public_key"].native
    if not isinstance(point, bytes) or len(point) != 65 or point[0] != 0x04:
        raise CertificateError("the certificate's SM2 point is not 04 || x || y")
    return int.from_bytes(point[1:33], "big"), int.from_bytes(point[33:], "big")


def _parameters_absent(algorithm: asn1_x509.Asn1Value) -> bool:
    parameters = algorithm["parameters"]
    return isinstance(parameters, core.Void) or isinstance(parameters.parsed, core.Null)


@functools.lru_cache(maxsize=512)
def _parse(der: bytes) -> CertificateInfo:
    try:
        cert = asn1_x509.Certificate.load(der, strict=True)
        tbs = cert["tbs_certificate"]
        public_point = _point_of(tbs["subject_public_key_info"])
        public_pem = sm2_public_pem_from_point(*public_point)
        extensions = {ext["extn_id"].native: ext for ext in tbs["extensions"]}
        critical = {name for name, ext in extensions.items() if ext["critical"].native}
        key_usage = cert.key_usage_value
        basic = cert.basic_constraints_value
        aki = cert.authority_key_identifier
        subject, issuer = tbs["subject"], tbs["issuer"]
        info = CertificateInfo(
            der=der,
            tbs=tbs.dump(),
            signature=cert["signature_value"].native,
            inner_algorithm=tbs["signature"]["algorithm"].dotted,
            outer_algorithm=cert["signature_algorithm"]["algorithm"].dotted,
            algorithm_parameters_ok=_parameters_absent(tbs["signature"])
            and _parameters_absent(cert["signature_algorithm"]),
            serial_number=tbs["serial_number"].native,
            issuer=issuer.hashable,
            subject=subject.hashable,
            subject_text=subject.human_friendly,
            common_name=_name_attribute(subject, "common_name"),
            organisation=_name_attribute(subject, "organization_name"),
            uscc=_name_attribute(subject, "serial_number"),
            not_before=tbs["validity"]["not_before"].native,
            not_after=tbs["validity"]["not_after"].native,
            is_ca=bool(basic is not None and basic["ca"].native),
            key_usage=None if key_usage is None else frozenset(key_usage.native),
            unknown_critical=frozenset(str(name) for name in critical - _KNOWN_CRITICAL),
            key_identifier=cert.key_identifier,
            authority_key_identifier=aki,
            public_point=public_point,
            public_pem=public_pem,
            fingerprint=sm3(der).hex(),
        )
    except CertificateError:
        raise
    except Exception as exc:  # asn1crypto raises many types on malformed input
        raise CertificateError(f"not a well-formed SM2 certificate: {exc}") from None
    if not isinstance(info.not_before, dt.datetime) or not isinstance(info.not_after, dt.datetime):
        raise CertificateError("the certificate's validity is not a date and time")
    if not isinstance(info.signature, bytes):
        raise CertificateError("the certificate's signature is not a whole number of bytes")
    return info


def certificate_info(cert_der: bytes) -> CertificateInfo:
    """Parse a DER SM2 certificate; raises :class:`CertificateError` for anything else.

    Accepted: one DER ``Certificate`` with nothing after it whose key is an SM2 key. The
    signature is *not* checked here (that needs the issuer: :func:`verify_certificate`).
    Parsed certificates are cached (by their DER).
    """
    if not isinstance(cert_der, bytes | bytearray | memoryview):
        raise CertificateError("a certificate is DER bytes")
    return _parse(bytes(cert_der))


def public_pem_of(cert_der: bytes) -> bytes:
    """The SubjectPublicKeyInfo PEM of the certificate's SM2 key (for ``sm2_verify``)."""
    return certificate_info(cert_der).public_pem


# --- building ---------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _utc(value: dt.datetime, what: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise CertificateError(f"{what} must be a timezone-aware datetime")
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _time(value: dt.datetime) -> asn1_x509.Time:
    if value.year < _UTC_TIME_LIMIT:
        return asn1_x509.Time(name="utc_time", value=asn1_x509.UTCTime(value))
    return asn1_x509.Time(name="general_time", value=asn1_x509.GeneralizedTime(value))


def _text(value: str, what: str, limit: int = 64) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CertificateError(f"{what} is required")
    value = value.strip()
    if len(value) > limit:  # RFC 5280 upper bounds: ub-common-name 64, ub-organization-name 64
        raise CertificateError(f"{what} is limited to {limit} characters")
    return value


def _name(common_name: str, organisation: str, uscc: str | None) -> asn1_x509.Name:
    """C=CN, O=…, CN=…[, serialNumber=USCC], one attribute per RDN, in that order."""
    attributes: list[tuple[str, asn1_x509.DirectoryString]] = [
        ("country_name", asn1_x509.DirectoryString(name="printable_string", value="CN")),
        (
            "organization_name",
            asn1_x509.DirectoryString(
                name="utf8_string", value=_text(organisation, "the organisation")
            ),
        ),
        (
            "common_name",
            asn1_x509.DirectoryString(
                name="utf8_string", value=_text(common_name, "the common name")
            ),
        ),
    ]
    if uscc is not None:
        attributes.append(
            ("serial_number", asn1_x509.DirectoryString(name="printable_string", value=uscc))
        )
    rdns = [
        asn1_x509.RelativeDistinguishedName([asn1_x509.NameTypeAndValue({"type": t, "value": v})])
        for t, v in attributes
    ]
    return asn1_x509.Name(name="", value=asn1_x509.RDNSequence(rdns))


def _checked_uscc(uscc: str | None) -> str | None:
    if uscc is None:
        return None
    from zwfw.core.errors import ValidationError
    from zwfw.core.validators import validate_uscc

    try:
        return validate_uscc(uscc).number
    except ValidationError as exc:
        raise CertificateError(f"invalid 统一社会信用代码: {exc.message_en}") from None


def _key_identifier(point: tuple[int, int]) -> bytes:
    x, y = point
    return sm3(b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big"))[:20]


def _serial() -> int:
    # 159 random bits: positive, at most 20 octets (RFC 5280 4.1.2.2), unguessable.
    return secrets.randbits(159) | 1 << 150


def _validity(not_before: dt.datetime | None, valid_days: int) -> tuple[dt.datetime, dt.datetime]:
    if isinstance(valid_days, bool) or not isinstance(valid_days, int):
        raise CertificateError("valid_days must be an integer")
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise CertificateError(f"valid_days must be between 1 and {MAX_VALID_DAYS}")
    start = _now() if not_before is None else _utc(not_before, "not_before")
    return start, start + dt.timedelta(days=valid_days)


def _sign_certificate(tbs: asn1_x509.TbsCertificate, private_pem: bytes) -> bytes:
    signature = sm2_sign(private_pem, tbs.dump(), DEFAULT_SM2_UID)
    cert = asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": {"algorithm": SM2_WITH_SM3_OID},
            "signature_value": signature,
        }
    )
    return cert.dump()


def _extension(name: str, value: object, *, critical: bool) -> dict[str, object]:
    return {"extn_id": name, "critical": critical, "extn_value": value}


def make_ca(
    common_name: str,
    organisation: str,
    *,
    valid_days: int,
    uscc: str | None = None,
    not_before: dt.datetime | None = None,
) -> tuple[bytes, bytes]:
    """A new self-signed SM2 CA: ``(ca_private_pem, ca_cert_der)``.

    The key is generated here (PKCS#8 PEM, as ``openssl genpkey -algorithm SM2`` writes it).
    ``not_before`` defaults to now; the certificate is valid for ``valid_days`` days from then.
    Raises :class:`CertificateError` for empty names, a bad USCC or a bad validity.
    """
    start, end = _validity(not_before, valid_days)
    name = _name(common_name, organisation, _checked_uscc(uscc))
    private_pem, public_pem = sm2_generate_key()
    point = sm2_public_point(public_pem)
    key_id = _key_identifier(point)
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": _serial(),
            "signature": {"algorithm": SM2_WITH_SM3_OID},
            "issuer": name,
            "validity": {"not_before": _time(start), "not_after": _time(end)},
            "subject": name,
            "subject_public_key_info": asn1_keys.PublicKeyInfo.load(
                der_from_pem(public_pem, "PUBLIC KEY")
            ),
            "extensions": [
                _extension("basic_constraints", {"ca": True}, critical=True),
                _extension("key_usage", set(CA_USAGE), critical=True),
                _extension("key_identifier", key_id, critical=False),
                _extension("authority_key_identifier", {"key_identifier": key_id}, critical=False),
            ],
        }
    )
    return private_pem, _sign_certificate(tbs, private_pem)


def issue_certificate(
    ca_private_pem: bytes,
    ca_cert_der: bytes,
    subject_public_pem: bytes,
    *,
    common_name: str,
    organisation: str,
    uscc: str | None,
    valid_days: int,
    usage: str = "seal",
    not_before: dt.datetime | None = None,
) -> bytes:
    """An end-entity certificate for ``subject_public_pem`` (an SM2 key), signed by the CA.

    ``uscc`` (the holder organisation's 统一社会信用代码, validated) goes into the subject's
    ``serialNumber``; pass ``None`` for a person. ``usage`` is ``"seal"`` or ``"signature"``
    (digitalSignature + nonRepudiation) or ``"encryption"`` (keyEncipherment +
    dataEncipherment). The validity must lie within the CA's. Raises
    :class:`CertificateError` when the CA certificate is not a CA, the CA key does not belong
    to it, or an argument is invalid.
    """
    key_usage = USAGES.get(usage)
    if key_usage is None:
        raise CertificateError(f"usage must be one of {', '.join(sorted(USAGES))}")
    ca = certificate_info(ca_cert_der)
    if not ca.is_ca or (ca.key_usage is not None and "key_cert_sign" not in ca.key_usage):
        raise CertificateError("the issuer certificate is not a CA certificate")
    if sm2_public_point(sm2_public_from_private(ca_private_pem)) != ca.public_point:
        raise CertificateError("the CA private key does not belong to the CA certificate")
    start, end = _validity(not_before, valid_days)
    if not (ca.not_before <= start and end <= ca.not_after):
        raise CertificateError(
            f"the validity {start:%Y-%m-%d}–{end:%Y-%m-%d} must lie within the CA's "
            f"({ca.not_before:%Y-%m-%d}–{ca.not_after:%Y-%m-%d})"
        )
    point = sm2_public_point(subject_public_pem)
    ca_cert = asn1_x509.Certificate.load(ca.der)
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": _serial(),
            "signature": {"algorithm": SM2_WITH_SM3_OID},
            "issuer": ca_cert["tbs_certificate"]["subject"],
            "validity": {"not_before": _time(start), "not_after": _time(end)},
            "subject": _name(common_name, organisation, _checked_uscc(uscc)),
            "subject_public_key_info": asn1_keys.PublicKeyInfo.load(
                der_from_pem(sm2_public_pem_from_point(*point), "PUBLIC KEY")
            ),
            "extensions": [
                _extension("basic_constraints", {"ca": False}, critical=True),
                _extension("key_usage", set(key_usage), critical=True),
                _extension("key_identifier", _key_identifier(point), critical=False),
                _extension(
                    "authority_key_identifier",
                    {"key_identifier": ca.key_identifier or _key_identifier(ca.public_point)},
                    critical=False,
                ),
            ],
        }
    )
    return _sign_certificate(tbs, ca_private_pem)


# --- verification -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def _signature_valid(public_pem: bytes, tbs: bytes, signature: bytes, uid: bytes) -> bool:
    """The SM2 check alone, cached: one CA signs many certificates that are checked often."""
    return sm2_verify(public_pem, tbs, signature, uid)


def certificate_problem(  # noqa: PLR0911 (one return per problem)
    cert_der: bytes,
    issuer_cert_der: bytes,
    *,
    at: dt.datetime | None = None,
    uid: bytes = DEFAULT_SM2_UID,
) -> str | None:
    """Why ``cert_der`` is not a valid certificate issued by ``issuer_cert_der`` at ``at``;
    ``None`` when it is. See :func:`verify_certificate`."""
    when = _now() if at is None else _utc(at, "at")
    try:
        cert = certificate_info(cert_der)
        issuer = certificate_info(issuer_cert_der)
    except CertificateError as exc:
        return str(exc)
    if not (
        cert.inner_algorithm == cert.outer_algorithm == SM2_WITH_SM3_OID
        and cert.algorithm_parameters_ok
    ):
        return "the certificate is not signed with SM2-with-SM3"
    if not issuer.is_ca or (
        issuer.key_usage is not None and "key_cert_sign" not in issuer.key_usage
    ):
        return f"{issuer.subject_text} is not a CA"
    if cert.issuer != issuer.subject:
        return f"the certificate was not issued by {issuer.subject_text}"
    if cert.unknown_critical or issuer.unknown_critical:
        names = ", ".join(sorted(cert.unknown_critical | issuer.unknown_critical))
        return f"unsupported critical extension: {names}"
    if not _signature_valid(issuer.public_pem, cert.tbs, cert.signature, bytes(uid)):
        return "the certificate's signature does not verify with the issuer's key"
    if not cert.valid_at(when):
        return (
            f"the certificate is valid from {cert.not_before:%Y-%m-%d %H:%M:%S} to "
            f"{cert.not_after:%Y-%m-%d %H:%M:%S} UTC, not at {when:%Y-%m-%d %H:%M:%S}"
        )
    if not issuer.valid_at(when):
        return f"the issuer's certificate is not valid at {when:%Y-%m-%d %H:%M:%S} UTC"
    return None


def verify_certificate(
    cert_der: bytes,
    issuer_cert_der: bytes,
    *,
    at: dt.datetime | None = None,
    uid: bytes = DEFAULT_SM2_UID,
) -> bool:
    """Whether ``cert_der`` was issued by the CA ``issuer_cert_der`` and is valid at ``at``.

    Checked: both parse as SM2 certificates; the signature algorithm is SM2-with-SM3; the
    certificate's issuer name is the CA's subject; the CA has ``CA:TRUE`` (and keyCertSign
    when it has keyUsage); no critical extension is unknown; the SM2 signature over the
    TBSCertificate verifies with the CA's key and ``uid``; and both certificates are valid at
    ``at`` (default now). A self-signed CA is checked with itself as the issuer. Revocation is
    not checked. Never raises for malformed certificates: the answer is ``False``.
    """
    return certificate_problem(cert_der, issuer_cert_der, at=at, uid=uid) is None
