"""Electronic seals and seal signatures of GB/T 38540-2020 (安全电子签章密码技术规范), version 4.

An electronic seal (电子印章, ``SESeal``) binds a seal's picture and properties to the
certificates of the people or systems allowed to use it (签章者), and is signed by the seal
maker (制章者). An electronic signature (电子签章, ``SES_Signature``) is one use of a seal on
one document: the SM3 hash of the document, the time and the seal, signed by a signer whose
certificate the seal lists. Everything is DER; every signature is SM2 with SM3
(1.2.156.10197.1.501) and the GM/T 0009 default user id ``1234567812345678``.

The ASN.1 implemented here (field order and types of GB/T 38540-2020 §7; the asn1crypto
classes below use the same order, with snake-case field names)::

    SESeal ::= SEQUENCE {
        esealInfo      SES_SealInfo,          -- 印章信息
        cert           OCTET STRING,          -- 制章者证书 (DER X.509)
        signAlgID      OBJECT IDENTIFIER,     -- 签名算法标识 (1.2.156.10197.1.501)
        signedValue    BIT STRING }           -- 制章者的签名值 (DER SM2 signature)

    SES_SealInfo ::= SEQUENCE {
        header         SES_Header,
        esID           IA5String,             -- 电子印章标识
        property       SES_ESPropertyInfo,
        picture        SES_ESPictrueInfo,     -- (sic: the standard's spelling)
        extDatas       ExtensionDatas OPTIONAL }

    SES_Header ::= SEQUENCE {
        ID             IA5String,             -- "ES"
        version        INTEGER,               -- 4
        Vid            IA5String }            -- 厂商标识 (vendor id)

    SES_ESPropertyInfo ::= SEQUENCE {
        type           INTEGER,               -- 印章类型 (left to the business)
        name           UTF8String,            -- 印章名称
        certListType   INTEGER,               -- 1 certs, 2 certDigestList
        certList       SES_CertList,          -- 签章者证书信息列表
        createDate     GeneralizedTime,       -- 制作日期
        validStart     GeneralizedTime,       -- 有效起始日期
        validEnd       GeneralizedTime }      -- 有效终止日期

    SES_CertList ::= CHOICE {                 -- chosen by certListType: both are SEQUENCEs
        certs          CertInfoList,
        certDigestList CertDigestList }
    CertInfoList   ::= SEQUENCE OF OCTET STRING          -- DER certificates
    CertDigestList ::= SEQUENCE OF CertDigestObj
    CertDigestObj  ::= SEQUENCE {
        type           PrintableString,       -- digest type; we write and read "sm3"
        value          OCTET STRING }         -- digest of the DER certificate

    SES_ESPictrueInfo ::= SEQUENCE {
        type           IA5String,             -- "PNG", "JPG", "SVG" (also "GIF", "BMP" read)
        data           OCTET STRING,          -- the picture file
        width          INTEGER,               -- display width in mm
        height         INTEGER }              -- display height in mm

    ExtensionDatas ::= SEQUENCE OF ExtData
    ExtData ::= SEQUENCE {
        extnID         OBJECT IDENTIFIER,
        critical       BOOLEAN DEFAULT FALSE,
        extnValue      OCTET STRING }

    SES_Signature ::= SEQUENCE {
        toSign         TBS_Sign,
        cert           OCTET STRING,          -- 签章者证书 (DER X.509)
        signatureAlgID OBJECT IDENTIFIER,     -- 1.2.156.10197.1.501
        signature      BIT STRING,            -- 签章者的签名值 (DER SM2 signature)
        timeStamp  [0] BIT STRING OPTIONAL }  -- 对签名值的时间戳 (none written; read
                                              -- EXPLICIT or IMPLICIT; not verified)
    TBS_Sign ::= SEQUENCE {
        version        INTEGER,               -- 4
        eseal          SESeal,
        timeInfo       GeneralizedTime,       -- 签章时间
        dataHash       BIT STRING,            -- SM3 of the signed document (32 bytes)
        propertyInfo   IA5String,             -- 原文属性 (document id, range, …)
        extDatas       ExtensionDatas OPTIONAL }

**What is signed.**

* The seal's ``signedValue`` is the maker's SM2/SM3 signature of the DER encoding of
  ``SEQUENCE { esealInfo, cert, signAlgID }``, i.e. of the seal's first three fields (exactly
  their bytes as they appear in the seal) under a SEQUENCE header. That is our reading of the
  standard's "签名原文 = 印章信息、制章者证书、签名算法标识". Implementations read it
  differently, so :func:`verify_seal` also accepts a signature of the bare concatenation of the
  three encodings, or of the DER ``SES_SealInfo`` alone (what some open-source OFD toolkits
  sign); :attr:`SealCheck.signed_form` says which one matched. All three are signatures by the
  maker's key over the maker's own seal, so accepting them does not let anyone else forge one.
* The signature's ``signature`` is the signer's SM2/SM3 signature of the DER ``TBS_Sign``
  exactly as it appears in the ``SES_Signature`` (the seal inside it included, so a signature
  cannot be moved to another seal); ``dataHash`` is SM3 of the document.

Checks return a result with a precise ``reason`` (:class:`Failure`) and never raise on bad
input: random bytes, truncated DER, wrong OIDs or versions are ``structure``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from asn1crypto import core

from zwfw.core.crypto import (
    DEFAULT_SM2_UID,
    CryptoError,
    sm2_public_from_private,
    sm2_public_point,
    sm2_sign,
    sm2_verify,
    sm3,
)
from zwfw.signing.x509 import (
    SM2_WITH_SM3_OID,
    CertificateError,
    CertificateInfo,
    certificate_info,
    certificate_problem,
)

__all__ = [
    "CERT_LIST_CERTS",
    "CERT_LIST_DIGESTS",
    "SEAL_TYPE_ORGANISATION",
    "SEAL_TYPE_PERSONAL",
    "SES_VERSION",
    "Failure",
    "SealCheck",
    "SealError",
    "SignatureCheck",
    "make_seal",
    "sign_data",
    "verify_seal",
    "verify_signature",
]

SES_VERSION = 4
HEADER_ID = "ES"
CERT_LIST_CERTS = 1
CERT_LIST_DIGESTS = 2
DIGEST_TYPE = "sm3"
# GB/T 38540 leaves the seal type to the business; these are the values in common use.
SEAL_TYPE_ORGANISATION = 1
SEAL_TYPE_PERSONAL = 2
PICTURE_TYPES = ("PNG", "JPG", "SVG")
_READABLE_PICTURE_TYPES = (*PICTURE_TYPES, "GIF", "BMP")
MAX_PICTURE_MM = 500
MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 200
# A signing time this far after the verification time is accepted (clocks differ).
CLOCK_SKEW = dt.timedelta(minutes=5)
SM3_SIZE = 32
_SIGNATURE_USAGES = frozenset({"digital_signature", "non_repudiation"})


class Failure(StrEnum):
    """Why a seal or a signature is not valid (the first check that failed)."""

    STRUCTURE = "structure"  # not the DER structure above, wrong OID, version or header
    CERTIFICATE = "certificate"  # a certificate is malformed, expired, not trusted, wrong use
    SEAL_SIGNATURE = "seal_signature"  # the maker's signature over the seal does not verify
    SEAL_EXPIRED = "seal_expired"  # outside the seal's validity (at signing time)
    SIGNER_NOT_IN_SEAL = "signer_not_in_seal"  # the signer's certificate is not in certList
    SIGNATURE = "signature"  # the signer's signature does not verify (or is post-dated)
    DATA_HASH = "data_hash"  # the document is not the one signed


class SealError(CryptoError):
    """Making a seal or signing with one failed; ``reason`` is a :class:`Failure`."""

    def __init__(self, reason: Failure, message: str) -> None:
        self.reason = reason
        super().__init__(f"{reason}: {message}")


# --- ASN.1 ------------------------------------------------------------------------------------


class SESHeader(core.Sequence):
    _fields = [
        ("id", core.IA5String),
        ("version", core.Integer),
        ("vid", core.IA5String),
    ]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):
    _fields = [
        ("type", core.PrintableString),
        ("value", core.OctetString),
    ]


class CertDigestList(core.SequenceOf):
    _child_spec = CertDigestObj


class SESESPropertyInfo(core.Sequence):
    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),  # CertInfoList or CertDigestList, by cert_list_type
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class SESESPictrueInfo(core.Sequence):
    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class ExtData(core.Sequence):
    _fields = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class SESSealInfo(core.Sequence):
    _fields = [
        ("header", SESHeader),
        ("es_id", core.IA5String),
        ("property", SESESPropertyInfo),
        ("picture", SESESPictrueInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESeal(core.Sequence):
    _fields = [
        ("eseal_info", SESSealInfo),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
    ]


class TBSSign(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESSignature(core.Sequence):
    _fields = [
        ("to_sign", TBSSign),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        # [0] BIT STRING, explicit or implicit: read from the raw bytes (see _time_stamp).
        ("time_stamp", core.Any, {"optional": True}),
    ]


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealCheck:
    """The outcome of :func:`verify_seal`, with the seal's fields when it could be parsed."""

    ok: bool
    reason: Failure | None = None
    detail: str = ""
    es_id: str | None = None
    vendor_id: str | None = None
    seal_type: int | None = None
    name: str | None = None
    cert_list_type: int | None = None
    certs: tuple[bytes, ...] = ()  # certListType 1: the signers' DER certificates
    cert_digests: tuple[tuple[str, bytes], ...] = ()  # certListType 2: (type, digest)
    created: dt.datetime | None = None
    valid_start: dt.datetime | None = None
    valid_end: dt.datetime | None = None
    picture_type: str | None = None
    picture: bytes | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    maker_cert: bytes | None = None
    signed_form: str | None = None  # "sequence" (ours), "concatenation" or "seal_info"
    trusted: bool = False  # the maker's certificate chains to one of trusted_cas

    def lists(self, cert_der: bytes) -> bool:
        """Whether the seal lists ``cert_der`` among its signers (by value or SM3 digest)."""
        if self.cert_list_type == CERT_LIST_CERTS:
            return bytes(cert_der) in self.certs
        digest = sm3(bytes(cert_der))
        return any(
            kind.strip().lower() == DIGEST_TYPE and value == digest
            for kind, value in self.cert_digests
        )


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The outcome of :func:`verify_signature`."""

    ok: bool
    reason: Failure | None = None
    detail: str = ""
    seal: SealCheck | None = None
    signer_cert: bytes | None = None
    signer: str | None = None  # the signer certificate's subject, readable
    signed_at: dt.datetime | None = None  # timeInfo, as claimed by the signer
    data_hash: bytes | None = None
    property_info: str | None = None
    data_checked: bool = False  # False when no data (or hash) was given to compare
    trusted: bool = False  # both certificates chain to trusted_cas
    has_timestamp: bool = False  # a timeStamp is present (it is not verified)
    extensions: tuple[tuple[str, bool, bytes], ...] = field(default=())


# --- parsing ----------------------------------------------------------------------------------


class _Malformed(Exception):
    """Internal: the input is not the expected structure."""


@dataclass(frozen=True, slots=True)
class _Seal:
    es_id: str
    vendor_id: str
    seal_type: int
    name: str
    cert_list_type: int
    certs: tuple[bytes, ...]
    cert_digests: tuple[tuple[str, bytes], ...]
    created: dt.datetime
    valid_start: dt.datetime
    valid_end: dt.datetime
    picture_type: str
    picture: bytes
    width_mm: int
    height_mm: int
    maker_cert: bytes
    signed_value: bytes
    info_der: bytes  # the three signed parts, as encoded in the seal
    cert_der_field: bytes
    alg_der: bytes

    def fields(self) -> dict[str, object]:
        return {
            "es_id": self.es_id,
            "vendor_id": self.vendor_id,
            "seal_type": self.seal_type,
            "name": self.name,
            "cert_list_type": self.cert_list_type,
            "certs": self.certs,
            "cert_digests": self.cert_digests,
            "created": self.created,
            "valid_start": self.valid_start,
            "valid_end": self.valid_end,
            "picture_type": self.picture_type,
            "picture": self.picture,
            "width_mm": self.width_mm,
            "height_mm": self.height_mm,
            "maker_cert": self.maker_cert,
        }


@dataclass(frozen=True, slots=True)
class _Signature:
    seal: _Seal
    signed_at: dt.datetime
    data_hash: bytes
    property_info: str
    extensions: tuple[tuple[str, bool, bytes], ...]
    signer_cert: bytes
    signature: bytes
    tbs_der: bytes
    has_timestamp: bool


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_sequence(content: bytes) -> bytes:
    return b"\x30" + _der_length(len(content)) + content


def _complete(value: core.Sequence) -> core.Sequence:
    """Refuse elements beyond the declared fields (asn1crypto would keep them silently)."""
    if len(value) > len(value._fields):
        raise _Malformed(f"{type(value).__name__} has unexpected extra elements")
    return value


def _integer(value: core.Integer, what: str) -> int:
    number = value.native
    if not isinstance(number, int):
        raise _Malformed(f"{what} is not an integer")
    return number


def _string(value: core.Asn1Value, what: str) -> str:
    text = value.native
    if not isinstance(text, str):
        raise _Malformed(f"{what} is not a string")
    return text


def _octets(value: core.Asn1Value, what: str) -> bytes:
    data = value.native
    if not isinstance(data, bytes):
        raise _Malformed(f"{what} is not a byte string")
    return data


def _time(value: core.GeneralizedTime, what: str) -> dt.datetime:
    when = value.native
    if not isinstance(when, dt.datetime) or when.tzinfo is None:
        raise _Malformed(f"{what} is not a GeneralizedTime with a time zone")
    return when.astimezone(dt.UTC)


def _extensions(value: core.Asn1Value) -> tuple[tuple[str, bool, bytes], ...]:
    if isinstance(value, core.Void):
        return ()
    result = []
    for ext in value:
        _complete(ext)
        result.append(
            (
                ext["extn_id"].dotted,
                bool(ext["critical"].native),
                _octets(ext["extn_value"], "extnValue"),
            )
        )
    critical = [oid for oid, is_critical, _ in result if is_critical]
    if critical:
        raise _Malformed(f"unsupported critical extension {', '.join(critical)}")
    return tuple(result)


def _parse_seal_object(seal: SESeal) -> _Seal:
    _complete(seal)
    info = _complete(seal["eseal_info"])
    header = _complete(info["header"])
    if _string(header["id"], "header ID") != HEADER_ID:
        raise _Malformed(f"the seal header ID is not {HEADER_ID!r}")
    if _integer(header["version"], "header version") != SES_VERSION:
        raise _Malformed(f"the seal version is not {SES_VERSION}")
    prop = _complete(info["property"])
    cert_list_type = _integer(prop["cert_list_type"], "certListType")
    cert_list_raw = prop["cert_list"].dump()
    certs: tuple[bytes, ...] = ()
    digests: tuple[tuple[str, bytes], ...] = ()
    if cert_list_type == CERT_LIST_CERTS:
        certs = tuple(
            _octets(c, "certList entry") for c in CertInfoList.load(cert_list_raw, strict=True)
        )
    elif cert_list_type == CERT_LIST_DIGESTS:
        digests = tuple(
            (_string(_complete(d)["type"], "digest type"), _octets(d["value"], "digest"))
            for d in CertDigestList.load(cert_list_raw, strict=True)
        )
    else:
        raise _Malformed(f"certListType {cert_list_type} is neither 1 nor 2")
    picture = _complete(info["picture"])
    _extensions(info["ext_datas"])
    if seal["sign_alg_id"].dotted != SM2_WITH_SM3_OID:
        raise _Malformed("the seal's signAlgID is not SM2-with-SM3 (1.2.156.10197.1.501)")
    return _Seal(
        es_id=_string(info["es_id"], "esID"),
        vendor_id=_string(header["vid"], "Vid"),
        seal_type=_integer(prop["type"], "type"),
        name=_string(prop["name"], "name"),
        cert_list_type=cert_list_type,
        certs=certs,
        cert_digests=digests,
        created=_time(prop["create_date"], "createDate"),
        valid_start=_time(prop["valid_start"], "validStart"),
        valid_end=_time(prop["valid_end"], "validEnd"),
        picture_type=_string(picture["type"], "picture type"),
        picture=_octets(picture["data"], "picture data"),
        width_mm=_integer(picture["width"], "width"),
        height_mm=_integer(picture["height"], "height"),
        maker_cert=_octets(seal["cert"], "cert"),
        signed_value=_octets(seal["signed_value"], "signedValue"),
        info_der=info.dump(),
        cert_der_field=seal["cert"].dump(),
        alg_der=seal["sign_alg_id"].dump(),
    )


def _load(spec: type[core.Sequence], der: object) -> core.Sequence:
    if not isinstance(der, bytes | bytearray | memoryview):
        raise _Malformed("the input is not bytes")
    return spec.load(bytes(der), strict=True)


# Signed seal bytes can be large (the picture): only seals up to this size are cached.
_CACHEABLE_SEAL = 128 * 1024


@functools.lru_cache(maxsize=64)
def _parse_seal_cached(der: bytes) -> _Seal:
    return _parse_seal_object(SESeal.load(der, strict=True))


def _seal_from(der: bytes) -> _Seal:
    """Parse a seal; one seal signs many documents, so parsed seals are cached (immutable)."""
    if len(der) <= _CACHEABLE_SEAL:
        return _parse_seal_cached(der)
    return _parse_seal_object(SESeal.load(der, strict=True))


def _parse_seal(der: object) -> _Seal:
    if not isinstance(der, bytes | bytearray | memoryview):
        raise _Malformed("the input is not bytes")
    try:
        return _seal_from(bytes(der))
    except _Malformed:
        raise
    except Exception as exc:  # asn1crypto raises many types on malformed input
        raise _Malformed(f"not a GB/T 38540 v4 seal: {exc}") from None


def _time_stamp(outer: SESSignature, stamp: core.Asn1Value) -> bytes:
    """The timeStamp's bits, [0] EXPLICIT or IMPLICIT (the last element of ``outer``)."""
    prefix = sum(
        len(outer[name].dump()) for name in ("to_sign", "cert", "signature_alg_id", "signature")
    )
    raw = outer.contents[prefix:]
    if raw[:1] == b"\xa0":
        return _octets(core.OctetBitString.load(stamp.contents, strict=True), "timeStamp")
    if raw[:1] == b"\x80":
        content = stamp.contents
        encoded = b"\x03" + _der_length(len(content)) + content
        return _octets(core.OctetBitString.load(encoded, strict=True), "timeStamp")
    raise _Malformed("the element after the signature is not timeStamp [0]")


def _parse_signature(der: object) -> _Signature:
    try:
        outer = _complete(_load(SESSignature, der))
        tbs = _complete(outer["to_sign"])
        if _integer(tbs["version"], "TBS_Sign version") != SES_VERSION:
            raise _Malformed(f"the TBS_Sign version is not {SES_VERSION}")
        if outer["signature_alg_id"].dotted != SM2_WITH_SM3_OID:
            raise _Malformed("the signatureAlgID is not SM2-with-SM3 (1.2.156.10197.1.501)")
        data_hash = _octets(tbs["data_hash"], "dataHash")
        if len(data_hash) != SM3_SIZE:
            raise _Malformed("dataHash is not an SM3 hash (32 bytes)")
        stamp = outer["time_stamp"]
        has_timestamp = not isinstance(stamp, core.Void)
        if has_timestamp:
            _time_stamp(outer, stamp)
        return _Signature(
            seal=_seal_from(tbs["eseal"].dump()),
            signed_at=_time(tbs["time_info"], "timeInfo"),
            data_hash=data_hash,
            property_info=_string(tbs["property_info"], "propertyInfo"),
            extensions=_extensions(tbs["ext_datas"]),
            signer_cert=_octets(outer["cert"], "cert"),
            signature=_octets(outer["signature"], "signature"),
            tbs_der=tbs.dump(),
            has_timestamp=has_timestamp,
        )
    except _Malformed:
        raise
    except Exception as exc:  # asn1crypto raises many types on malformed input
        raise _Malformed(f"not a GB/T 38540 v4 signature: {exc}") from None


# --- checks shared by seals and signatures ----------------------------------------------------


@functools.lru_cache(maxsize=64)
def _seal_signature_cached(public_pem: bytes, message: bytes, signature: bytes) -> bool:
    return sm2_verify(public_pem, message, signature, DEFAULT_SM2_UID)


def _maker_signed(public_pem: bytes, message: bytes, signature: bytes) -> bool:
    if len(message) <= _CACHEABLE_SEAL:
        return _seal_signature_cached(public_pem, message, signature)
    return sm2_verify(public_pem, message, signature, DEFAULT_SM2_UID)


def _seal_signed_form(seal: _Seal, maker: CertificateInfo) -> str | None:
    """Which reading of "what the maker signs" verifies (ours first), or ``None``."""
    parts = seal.info_der + seal.cert_der_field + seal.alg_der
    candidates = (
        ("sequence", _der_sequence(parts)),
        ("concatenation", parts),
        ("seal_info", seal.info_der),
    )
    for form, message in candidates:
        if _maker_signed(maker.public_pem, message, seal.signed_value):
            return form
    return None


class _CertificateProblem(Exception):
    """Internal: a certificate is not acceptable."""


def _parse_cert(der: bytes, role: str) -> CertificateInfo:
    try:
        return certificate_info(der)
    except CertificateError as exc:
        raise _CertificateProblem(f"the {role}'s certificate: {exc}") from None


def _check_certificate(
    cert: CertificateInfo,
    role: str,
    when: dt.datetime,
    trusted_cas: Sequence[bytes] | None,
) -> bool:
    """Validity at ``when``, signing usage, and the chain; returns whether it was trusted.

    Raises :class:`_CertificateProblem`.
    """
    if not cert.valid_at(when):
        raise _CertificateProblem(
            f"the {role}'s certificate ({cert.subject_text}) is valid from "
            f"{cert.not_before:%Y-%m-%d %H:%M:%S} to {cert.not_after:%Y-%m-%d %H:%M:%S} UTC, "
            f"not at {when:%Y-%m-%d %H:%M:%S}"
        )
    if cert.key_usage is not None and not cert.key_usage & _SIGNATURE_USAGES:
        raise _CertificateProblem(f"the {role}'s certificate is not for signing")
    if cert.unknown_critical:
        raise _CertificateProblem(
            f"the {role}'s certificate has an unsupported critical extension "
            + ", ".join(sorted(cert.unknown_critical))
        )
    if trusted_cas is None:
        return False
    problems = [certificate_problem(cert.der, ca, at=when) for ca in trusted_cas]
    if None not in problems:
        raise _CertificateProblem(
            f"the {role}'s certificate ({cert.subject_text}) is not issued by a trusted CA"
            + (f": {problems[0]}" if len(problems) == 1 else "")
        )
    return True


def _utc(value: dt.datetime | None, what: str = "at") -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise TypeError(f"{what} must be a timezone-aware datetime")
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _anchors(trusted_cas: Iterable[bytes] | None) -> tuple[bytes, ...] | None:
    return None if trusted_cas is None else tuple(bytes(ca) for ca in trusted_cas)


def _seal_check(
    seal: _Seal, reason: Failure | None, detail: str = "", **extra: object
) -> SealCheck:
    return SealCheck(ok=reason is None, reason=reason, detail=detail, **seal.fields(), **extra)  # type: ignore[arg-type]


# --- seals ------------------------------------------------------------------------------------


def verify_seal(
    seal_der: bytes,
    *,
    at: dt.datetime | None = None,
    trusted_cas: Iterable[bytes] | None = None,
) -> SealCheck:
    """Check a seal (``SESeal`` DER) on its own, at ``at`` (default now).

    In order: the structure (header ``"ES"``, version 4, SM2-with-SM3), the maker's certificate
    (parses as SM2), the maker's signature, the validity window at ``at``, and the maker's
    certificate at the seal's createDate (validity, signing usage, and issued by one of
    ``trusted_cas`` when given). Never raises on bad input.
    """
    when = _utc(at)
    anchors = _anchors(trusted_cas)
    try:
        seal = _parse_seal(seal_der)
    except _Malformed as exc:
        return SealCheck(ok=False, reason=Failure.STRUCTURE, detail=str(exc))
    try:
        maker = _parse_cert(seal.maker_cert, "maker")
    except _CertificateProblem as exc:
        return _seal_check(seal, Failure.CERTIFICATE, str(exc))
    form = _seal_signed_form(seal, maker)
    if form is None:
        return _seal_check(seal, Failure.SEAL_SIGNATURE, "the maker's signature does not verify")
    if not seal.valid_start <= when <= seal.valid_end:
        return _seal_check(
            seal,
            Failure.SEAL_EXPIRED,
            f"the seal is valid from {seal.valid_start:%Y-%m-%d %H:%M:%S} to "
            f"{seal.valid_end:%Y-%m-%d %H:%M:%S} UTC, not at {when:%Y-%m-%d %H:%M:%S}",
            signed_form=form,
        )
    try:
        trusted = _check_certificate(maker, "maker", seal.created, anchors)
    except _CertificateProblem as exc:
        return _seal_check(seal, Failure.CERTIFICATE, str(exc), signed_form=form)
    return _seal_check(seal, None, signed_form=form, trusted=trusted)


def _picture_matches(picture: bytes, picture_type: str) -> bool:
    if picture_type == "PNG":
        return picture.startswith(b"\x89PNG\r\n\x1a\n")
    if picture_type == "JPG":
        return picture.startswith(b"\xff\xd8\xff")
    head = picture[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") and b"<svg" in picture[:4096]


def _ascii(value: str, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(f"{what} must be 1–{limit} characters")
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"{what} must be printable ASCII (an IA5String)")
    return value


def _generalized(value: dt.datetime) -> core.GeneralizedTime:
    return core.GeneralizedTime(value)


def make_seal(  # noqa: PLR0912 (one check per argument)
    *,
    es_id: str,
    seal_type: int,
    name: str,
    holder_certs: list[bytes],
    picture: bytes,
    picture_type: str,
    width_mm: int,
    height_mm: int,
    valid_start: dt.datetime,
    valid_end: dt.datetime,
    maker_private_pem: bytes,
    maker_cert_der: bytes,
    vendor_id: str = "zwfw",
    created_at: dt.datetime | None = None,
    cert_list_type: int = CERT_LIST_CERTS,
) -> bytes:
    """Make and sign a GB/T 38540 v4 seal; returns the ``SESeal`` DER.

    ``holder_certs`` are the DER certificates of those who may sign with the seal (签章者);
    with ``cert_list_type=2`` the seal lists their SM3 digests instead. The picture must be of
    ``picture_type`` (``"PNG"``, ``"JPG"`` or ``"SVG"``, checked by its first bytes); its display
    size is in millimetres. Times are timezone-aware (stored in UTC, whole seconds);
    ``created_at`` defaults to now. The maker's key must belong to ``maker_cert_der``.
    Raises ``ValueError`` (:class:`CertificateError` for certificates).
    """
    if isinstance(seal_type, bool) or not isinstance(seal_type, int) or seal_type < 0:
        raise ValueError("seal_type is a non-negative integer")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"the seal name must be 1–{MAX_NAME_LENGTH} characters")
    if picture_type not in PICTURE_TYPES:
        raise ValueError(f"picture_type must be one of {', '.join(PICTURE_TYPES)}")
    picture = bytes(picture)
    if not _picture_matches(picture, picture_type):
        raise ValueError(f"the picture is not a {picture_type} file")
    for size, what in ((width_mm, "width_mm"), (height_mm, "height_mm")):
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_PICTURE_MM:
            raise ValueError(f"{what} must be an integer between 1 and {MAX_PICTURE_MM}")
    start, end = _utc(valid_start, "valid_start"), _utc(valid_end, "valid_end")
    if not start < end:
        raise ValueError("valid_start must be before valid_end")
    if not holder_certs:
        raise ValueError("a seal lists at least one signer certificate")
    holders = [bytes(cert) for cert in holder_certs]
    for cert in holders:
        certificate_info(cert)  # raises CertificateError when it is not an SM2 certificate
    maker = certificate_info(maker_cert_der)
    if sm2_public_point(sm2_public_from_private(maker_private_pem)) != maker.public_point:
        raise CertificateError("the maker's private key does not belong to maker_cert_der")
    if cert_list_type == CERT_LIST_CERTS:
        cert_list: core.Asn1Value = CertInfoList(holders)
    elif cert_list_type == CERT_LIST_DIGESTS:
        cert_list = CertDigestList([{"type": DIGEST_TYPE, "value": sm3(c)} for c in holders])
    else:
        raise ValueError("cert_list_type is 1 (certificates) or 2 (SM3 digests)")
    info = SESSealInfo(
        {
            "header": {
                "id": HEADER_ID,
                "version": SES_VERSION,
                "vid": _ascii(vendor_id, "vendor_id", MAX_ID_LENGTH),
            },
            "es_id": _ascii(es_id, "es_id", MAX_ID_LENGTH),
            "property": {
                "type": seal_type,
                "name": name.strip(),
                "cert_list_type": cert_list_type,
                "cert_list": core.Any.load(cert_list.dump()),
                "create_date": _generalized(_utc(created_at, "created_at")),
                "valid_start": _generalized(start),
                "valid_end": _generalized(end),
            },
            "picture": {
                "type": picture_type,
                "data": picture,
                "width": width_mm,
                "height": height_mm,
            },
        }
    )
    cert_field = core.OctetString(maker.der)
    alg_field = core.ObjectIdentifier(SM2_WITH_SM3_OID)
    message = _der_sequence(info.dump() + cert_field.dump() + alg_field.dump())
    signed_value = sm2_sign(maker_private_pem, message, DEFAULT_SM2_UID)
    seal = SESeal(
        {
            "eseal_info": info,
            "cert": cert_field,
            "sign_alg_id": alg_field,
            "signed_value": signed_value,
        }
    )
    return seal.dump()


# --- signatures -------------------------------------------------------------------------------


def _hash_of(data_or_hash: bytes, *, prehashed: bool) -> bytes:
    if not isinstance(data_or_hash, bytes | bytearray | memoryview):
        raise TypeError("the data to sign must be bytes")
    if not prehashed:
        return sm3(bytes(data_or_hash))
    if len(data_or_hash) != SM3_SIZE:
        raise ValueError("a prehashed document is its 32-byte SM3 hash")
    return bytes(data_or_hash)


def _assemble_signature(
    *,
    seal_der: bytes,
    data_hash: bytes,
    signed_at: dt.datetime,
    property_info: str,
    signer_private_pem: bytes,
    signer_cert_der: bytes,
) -> bytes:
    """Build and sign an ``SES_Signature`` without any check (tests use it to make bad ones)."""
    tbs = TBSSign(
        {
            "version": SES_VERSION,
            "eseal": SESeal.load(bytes(seal_der)),
            "time_info": _generalized(signed_at),
            "data_hash": data_hash,
            "property_info": property_info,
        }
    )
    signature = sm2_sign(signer_private_pem, tbs.dump(), DEFAULT_SM2_UID)
    return SESSignature(
        {
            "to_sign": tbs,
            "cert": bytes(signer_cert_der),
            "signature_alg_id": SM2_WITH_SM3_OID,
            "signature": signature,
        }
    ).dump()


def sign_data(
    data_or_hash: bytes,
    *,
    seal_der: bytes,
    signer_private_pem: bytes,
    signer_cert_der: bytes,
    property_info: str = "",
    at: dt.datetime | None = None,
    prehashed: bool = False,
) -> bytes:
    """Seal a document: returns the ``SES_Signature`` DER.

    ``dataHash`` is SM3 of ``data_or_hash`` (or ``data_or_hash`` itself, 32 bytes, with
    ``prehashed=True``); ``timeInfo`` is ``at`` (default now). ``property_info`` (ASCII) says
    what was signed (GB/T 38540 asks for at least the signed range). Refuses, with
    :class:`SealError`, a seal that does not verify or is not valid at ``at``, a signer whose
    certificate the seal does not list, whose key does not match or whose certificate is not
    valid at ``at``.
    """
    when = _utc(at)
    data_hash = _hash_of(data_or_hash, prehashed=prehashed)
    if not isinstance(property_info, str) or not property_info.isascii():
        raise ValueError("property_info must be ASCII (an IA5String)")
    seal = verify_seal(seal_der, at=when)
    if not seal.ok:
        raise SealError(seal.reason or Failure.STRUCTURE, seal.detail)
    try:
        signer = certificate_info(signer_cert_der)
    except CertificateError as exc:
        raise SealError(Failure.CERTIFICATE, str(exc)) from None
    if not seal.lists(signer.der):
        raise SealError(Failure.SIGNER_NOT_IN_SEAL, "the seal does not list the signer")
    if sm2_public_point(sm2_public_from_private(signer_private_pem)) != signer.public_point:
        raise SealError(Failure.CERTIFICATE, "the private key does not belong to the certificate")
    try:
        _check_certificate(signer, "signer", when, None)
    except _CertificateProblem as exc:
        raise SealError(Failure.CERTIFICATE, str(exc)) from None
    return _assemble_signature(
        seal_der=seal_der,
        data_hash=data_hash,
        signed_at=when,
        property_info=property_info,
        signer_private_pem=signer_private_pem,
        signer_cert_der=signer.der,
    )


def verify_signature(  # noqa: PLR0911 (one return per failure reason)
    ses_der: bytes,
    data: bytes | None = None,
    *,
    at: dt.datetime | None = None,
    data_hash: bytes | None = None,
    trusted_cas: Iterable[bytes] | None = None,
) -> SignatureCheck:
    """Check a seal signature (``SES_Signature`` DER) and, when given, the document.

    Checks, in order, and the reason reported when one fails:

    1. ``structure`` — the DER structure, versions 4, header ``"ES"``, both algorithm OIDs
       SM2-with-SM3, a 32-byte dataHash, no unknown critical extData;
    2. ``certificate`` — the maker's and the signer's certificates parse as SM2 certificates;
    3. ``seal_signature`` — the maker's signature over the seal;
    4. ``signature`` — the signer's signature over ``TBS_Sign``, and a signing time
       (timeInfo) not after ``at`` (default now) + 5 minutes;
    5. ``seal_expired`` — the signing time lies within the seal's validity;
    6. ``signer_not_in_seal`` — the seal's certList holds the signer's certificate (or its SM3
       digest);
    7. ``certificate`` — the signer's certificate is valid at the signing time and the maker's
       at the seal's createDate, both for signing, and both issued by one of ``trusted_cas``
       when it is given (``trusted`` in the result says whether that was checked);
    8. ``data_hash`` — SM3 of ``data`` (or ``data_hash``) equals dataHash. Without either,
       ``data_checked`` is False and the signature alone is checked.

    The timeStamp, when present, is reported but not verified. Never raises on bad input.
    """
    when = _utc(at)
    anchors = _anchors(trusted_cas)
    try:
        parsed = _parse_signature(ses_der)
    except _Malformed as exc:
        return SignatureCheck(ok=False, reason=Failure.STRUCTURE, detail=str(exc))
    seal = parsed.seal
    result = {
        "signer_cert": parsed.signer_cert,
        "signed_at": parsed.signed_at,
        "data_hash": parsed.data_hash,
        "property_info": parsed.property_info,
        "has_timestamp": parsed.has_timestamp,
        "extensions": parsed.extensions,
    }

    def failed(reason: Failure, detail: str, seal_check: SealCheck | None) -> SignatureCheck:
        return SignatureCheck(
            ok=False,
            reason=reason,
            detail=detail,
            seal=seal_check,
            **result,  # type: ignore[arg-type]
        )

    try:
        maker = _parse_cert(seal.maker_cert, "maker")
    except _CertificateProblem as exc:
        return failed(
            Failure.CERTIFICATE, str(exc), _seal_check(seal, Failure.CERTIFICATE, str(exc))
        )
    try:
        signer = _parse_cert(parsed.signer_cert, "signer")
    except _CertificateProblem as exc:
        return failed(Failure.CERTIFICATE, str(exc), None)
    result["signer"] = signer.subject_text
    form = _seal_signed_form(seal, maker)
    if form is None:
        return failed(
            Failure.SEAL_SIGNATURE,
            "the maker's signature over the seal does not verify",
            _seal_check(seal, Failure.SEAL_SIGNATURE, "the maker's signature does not verify"),
        )
    seal_check = _seal_check(seal, None, signed_form=form)
    if not sm2_verify(signer.public_pem, parsed.tbs_der, parsed.signature, DEFAULT_SM2_UID):
        return failed(Failure.SIGNATURE, "the signer's signature does not verify", seal_check)
    if parsed.signed_at > when + CLOCK_SKEW:
        return failed(
            Failure.SIGNATURE,
            f"the signing time {parsed.signed_at:%Y-%m-%d %H:%M:%S} UTC is after "
            f"the verification time {when:%Y-%m-%d %H:%M:%S}",
            seal_check,
        )
    if not seal.valid_start <= parsed.signed_at <= seal.valid_end:
        detail = (
            f"signed at {parsed.signed_at:%Y-%m-%d %H:%M:%S} UTC, outside the seal's validity "
            f"{seal.valid_start:%Y-%m-%d %H:%M:%S}–{seal.valid_end:%Y-%m-%d %H:%M:%S}"
        )
        return failed(
            Failure.SEAL_EXPIRED,
            detail,
            _seal_check(seal, Failure.SEAL_EXPIRED, detail, signed_form=form),
        )
    if not seal_check.lists(signer.der):
        return failed(
            Failure.SIGNER_NOT_IN_SEAL,
            f"the seal does not list the signer's certificate ({signer.subject_text})",
            seal_check,
        )
    try:
        maker_trusted = _check_certificate(maker, "maker", seal.created, anchors)
        signer_trusted = _check_certificate(signer, "signer", parsed.signed_at, anchors)
    except _CertificateProblem as exc:
        return failed(Failure.CERTIFICATE, str(exc), seal_check)
    seal_check = _seal_check(seal, None, signed_form=form, trusted=maker_trusted)
    trusted = maker_trusted and signer_trusted
    if data is not None or data_hash is not None:
        expected = sm3(bytes(data)) if data is not None else bytes(data_hash or b"")
        if expected != parsed.data_hash:
            return SignatureCheck(
                ok=False,
                reason=Failure.DATA_HASH,
                detail="the document is not the one that was signed",
                seal=seal_check,
                data_checked=True,
                trusted=trusted,
                **result,  # type: ignore[arg-type]
            )
        result["data_checked"] = True
    return SignatureCheck(ok=True, seal=seal_check, trusted=trusted, **result)  # type: ignore[arg-type]
