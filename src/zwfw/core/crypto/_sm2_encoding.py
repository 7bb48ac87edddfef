"""SM2 curve constants and the encodings both SM2 backends share.

Everything here is plain Python with no elliptic-curve arithmetic beyond checking that a point
lies on the curve, so the OpenSSL and the pure-Python backends accept and reject exactly the same
keys, signatures and ciphertexts (both go through these parsers first).

Formats (as OpenSSL 3 reads and writes them):

* private key: PKCS#8 ``PrivateKeyInfo`` (PEM "PRIVATE KEY") whose algorithm is
  ``id-ecPublicKey`` with the ``sm2p256v1`` curve OID and whose key is a SEC 1 ``ECPrivateKey``
  (RFC 5915) carrying the public point; SEC 1 PEM ("EC PRIVATE KEY") is read too;
* public key: ``SubjectPublicKeyInfo`` (PEM "PUBLIC KEY") with an uncompressed point;
* signature: DER ``SEQUENCE { r INTEGER, s INTEGER }`` (GM/T 0009 ``SM2Signature``);
* ciphertext: DER ``SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING, ciphertext OCTET
  STRING }`` (GM/T 0009 ``SM2Cipher``, i.e. C1 C3 C2 in that order).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from zwfw.core.crypto._symmetric import CryptoError, sm3

# The recommended curve of GB/T 32918.5 (sm2p256v1).
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

FIELD_SIZE = 32
SM3_SIZE = 32
# ENTL, the bit length of the user id, is a 16-bit field of the Z value (GB/T 32918.2, 5.5),
# so ids up to 8191 bytes fit; OpenSSL refuses 8191 itself (it tests len >= 0xFFFF // 8), and
# both backends must accept the same ids.
MAX_UID_SIZE = 0xFFFF // 8 - 1

_OID_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1
_OID_SM2_CURVE = bytes.fromhex("2a811ccf5501822d")  # 1.2.156.10197.1.301

_SEQUENCE = 0x30
_INTEGER = 0x02
_BIT_STRING = 0x03
_OCTET_STRING = 0x04
_OID = 0x06
_CONTEXT_0 = 0xA0
_CONTEXT_1 = 0xA1

Point = tuple[int, int]


# --- points -----------------------------------------------------------------------------------


def is_on_curve(x: int, y: int) -> bool:
    """Whether (x, y) is an affine point of the curve (the cofactor is 1: that is all it takes)."""
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x * x + A * x + B)) % P == 0


def check_point(x: int, y: int) -> Point:
    """Return the point or raise :class:`CryptoError` when it is not on the curve."""
    if not is_on_curve(x, y):
        raise CryptoError("the SM2 public key is not a point of the SM2 curve")
    return x, y


def check_scalar(d: int) -> int:
    """A private key must lie in [1, n - 2]: signing divides by 1 + d (GB/T 32918.1, 6.1)."""
    if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= N - 2:
        raise CryptoError("an SM2 private key is an integer in [1, n - 2]")
    return d


def point_to_bytes(point: Point) -> bytes:
    """Uncompressed point encoding ``04 || x || y``."""
    x, y = point
    return b"\x04" + x.to_bytes(FIELD_SIZE, "big") + y.to_bytes(FIELD_SIZE, "big")


def point_from_bytes(data: bytes) -> Point:
    """Inverse of :func:`point_to_bytes`; compressed points are not accepted."""
    if len(data) != 1 + 2 * FIELD_SIZE or data[0] != 0x04:
        raise CryptoError("an SM2 public key must be an uncompressed point (04 || x || y)")
    x = int.from_bytes(data[1 : 1 + FIELD_SIZE], "big")
    y = int.from_bytes(data[1 + FIELD_SIZE :], "big")
    return check_point(x, y)


def check_uid(uid: bytes) -> bytes:
    """The user id (distinguishing identifier) must be bytes short enough for ENTL."""
    if not isinstance(uid, bytes | bytearray | memoryview):
        raise TypeError("the SM2 user id must be bytes")
    uid = bytes(uid)
    if len(uid) > MAX_UID_SIZE:
        raise CryptoError(f"the SM2 user id is limited to {MAX_UID_SIZE} bytes")
    return uid


def z_value(uid: bytes, point: Point) -> bytes:
    """Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) (GB/T 32918.2, 5.5)."""
    entl = (len(uid) * 8).to_bytes(2, "big")
    return sm3(
        b"".join(
            (
                entl,
                uid,
                A.to_bytes(FIELD_SIZE, "big"),
                B.to_bytes(FIELD_SIZE, "big"),
                GX.to_bytes(FIELD_SIZE, "big"),
                GY.to_bytes(FIELD_SIZE, "big"),
                point[0].to_bytes(FIELD_SIZE, "big"),
                point[1].to_bytes(FIELD_SIZE, "big"),
            )
        )
    )


# --- DER --------------------------------------------------------------------------------------


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_tlv(tag: int, value: bytes) -> bytes:
    """One DER element."""
    return bytes([tag]) + _der_length(len(value)) + value


def der_integer(value: int) -> bytes:
    """A non-negative DER INTEGER (minimal, with a leading zero when the top bit is set)."""
    if value < 0:
        raise ValueError("only non-negative integers are encoded here")
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    if len(body) > 1 and body[0] == 0 and body[1] < 0x80:
        body = body[1:]
    return der_tlv(_INTEGER, body)


class _DerReader:
    """A strict reader of definite-length DER (rejects BER leniencies, like OpenSSL does)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos == len(self.data)

    def peek_tag(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def read(self, tag: int) -> bytes:
        data, pos = self.data, self.pos
        if pos + 2 > len(data) or data[pos] != tag:
            raise CryptoError("malformed DER: unexpected element")
        first = data[pos + 1]
        pos += 2
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if count == 0 or count > 4 or pos + count > len(data):
                raise CryptoError("malformed DER: bad length")
            length = int.from_bytes(data[pos : pos + count], "big")
            # DER uses the shortest length form.
            if length < 0x80 or data[pos] == 0:
                raise CryptoError("malformed DER: non-minimal length")
            pos += count
        if pos + length > len(data):
            raise CryptoError("malformed DER: truncated element")
        self.pos = pos + length
        return data[pos : pos + length]

    def read_integer(self) -> int:
        body = self.read(_INTEGER)
        if not body:
            raise CryptoError("malformed DER: empty INTEGER")
        if len(body) > 1 and (
            (body[0] == 0 and body[1] < 0x80) or (body[0] == 0xFF and body[1] >= 0x80)
        ):
            raise CryptoError("malformed DER: non-minimal INTEGER")
        if body[0] >= 0x80:
            raise CryptoError("malformed DER: negative INTEGER")
        return int.from_bytes(body, "big")

    def finish(self) -> None:
        if not self.at_end():
            raise CryptoError("malformed DER: trailing data")


def _sequence(data: bytes) -> _DerReader:
    outer = _DerReader(data)
    body = outer.read(_SEQUENCE)
    outer.finish()
    return _DerReader(body)


# --- PEM --------------------------------------------------------------------------------------


def pem_encode(label: str, der: bytes) -> bytes:
    """PEM armour with 64-character lines, as OpenSSL writes it."""
    text = base64.b64encode(der).decode("ascii")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode(
        "ascii"
    )


def pem_decode(pem: bytes) -> tuple[str, bytes]:
    """The label and DER body of the first PEM block; raises :class:`CryptoError`."""
    if isinstance(pem, str):
        pem = pem.encode("ascii", "replace")
    if not isinstance(pem, bytes | bytearray | memoryview):
        raise TypeError("an SM2 key is PEM bytes")
    try:
        text = bytes(pem).decode("ascii")
    except UnicodeDecodeError:
        raise CryptoError("an SM2 key must be PEM text") from None
    begin = text.find("-----BEGIN ")
    if begin < 0:
        raise CryptoError("no PEM block found in the SM2 key")
    label_end = text.find("-----", begin + 11)
    if label_end < 0:
        raise CryptoError("malformed PEM header")
    label = text[begin + 11 : label_end]
    end_marker = f"-----END {label}-----"
    end = text.find(end_marker, label_end + 5)
    if end < 0:
        raise CryptoError(f"PEM block {label!r} is not terminated")
    body = text[label_end + 5 : end]
    if ":" in body:  # RFC 1421 headers: "Proc-Type: 4,ENCRYPTED" and friends
        raise CryptoError("encrypted PEM keys are not supported; decrypt the key first")
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("malformed base64 in PEM block") from None
    return label, der


# --- keys -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrivateKeyData:
    """A parsed private key: the scalar and, when the encoding carried it, the public point."""

    d: int
    point: Point | None


def _algorithm_identifier() -> bytes:
    return der_tlv(_SEQUENCE, der_tlv(_OID, _OID_EC_PUBLIC_KEY) + der_tlv(_OID, _OID_SM2_CURVE))


def _check_algorithm(body: bytes) -> None:
    reader = _DerReader(body)
    if reader.read(_OID) != _OID_EC_PUBLIC_KEY:
        raise CryptoError("not an elliptic-curve key")
    if reader.read(_OID) != _OID_SM2_CURVE:
        raise CryptoError("not a key on the SM2 curve (sm2p256v1)")
    reader.finish()


def encode_private_key(d: int, point: Point | None) -> bytes:
    """PKCS#8 ``PrivateKeyInfo`` DER, the shape ``openssl genpkey -algorithm SM2`` writes."""
    check_scalar(d)
    ec_key = der_integer(1) + der_tlv(_OCTET_STRING, d.to_bytes(FIELD_SIZE, "big"))
    if point is not None:
        ec_key += der_tlv(_CONTEXT_1, der_tlv(_BIT_STRING, b"\x00" + point_to_bytes(point)))
    return der_tlv(
        _SEQUENCE,
        der_integer(0)
        + _algorithm_identifier()
        + der_tlv(_OCTET_STRING, der_tlv(_SEQUENCE, ec_key)),
    )


def _decode_ec_private_key(der: bytes, *, needs_parameters: bool) -> PrivateKeyData:
    """SEC 1 ``ECPrivateKey`` (RFC 5915)."""
    reader = _sequence(der)
    if reader.read_integer() != 1:
        raise CryptoError("unsupported ECPrivateKey version")
    raw = reader.read(_OCTET_STRING)
    if not raw or len(raw) > FIELD_SIZE:
        raise CryptoError("an SM2 private key is 32 bytes")
    d = check_scalar(int.from_bytes(raw, "big"))
    if reader.peek_tag() == _CONTEXT_0:
        params = _DerReader(reader.read(_CONTEXT_0))
        if params.read(_OID) != _OID_SM2_CURVE:
            raise CryptoError("not a key on the SM2 curve (sm2p256v1)")
        params.finish()
    elif needs_parameters:
        raise CryptoError("the EC private key does not name its curve")
    point = None
    if reader.peek_tag() == _CONTEXT_1:
        bits = _DerReader(reader.read(_CONTEXT_1))
        public = bits.read(_BIT_STRING)
        bits.finish()
        if not public or public[0] != 0:
            raise CryptoError("malformed public key bit string")
        point = point_from_bytes(public[1:])
    reader.finish()
    return PrivateKeyData(d, point)


def decode_private_key(der: bytes, label: str = "PRIVATE KEY") -> PrivateKeyData:
    """Parse a PKCS#8 (or, with ``label="EC PRIVATE KEY"``, a SEC 1) SM2 private key."""
    if label == "EC PRIVATE KEY":
        return _decode_ec_private_key(der, needs_parameters=True)
    if label != "PRIVATE KEY":
        raise CryptoError(f"expected an SM2 private key, got a PEM {label!r} block")
    reader = _sequence(der)
    if reader.read_integer() not in (0, 1):  # v1, or v2 (RFC 5958) without the extras we ignore
        raise CryptoError("unsupported PKCS#8 version")
    _check_algorithm(reader.read(_SEQUENCE))
    key = _decode_ec_private_key(reader.read(_OCTET_STRING), needs_parameters=False)
    # RFC 5958 allows optional attributes [0] and a public key [1] IMPLICIT after the key.
    if reader.peek_tag() == _CONTEXT_0:
        reader.read(_CONTEXT_0)
    if reader.peek_tag() == 0x81:
        reader.read(0x81)
    reader.finish()
    return key


def encode_public_key(point: Point) -> bytes:
    """``SubjectPublicKeyInfo`` DER with an uncompressed point."""
    check_point(*point)
    return der_tlv(
        _SEQUENCE,
        _algorithm_identifier() + der_tlv(_BIT_STRING, b"\x00" + point_to_bytes(point)),
    )


def decode_public_key(der: bytes, label: str = "PUBLIC KEY") -> Point:
    """Parse a ``SubjectPublicKeyInfo`` SM2 public key; raises :class:`CryptoError`."""
    if label != "PUBLIC KEY":
        raise CryptoError(f"expected an SM2 public key, got a PEM {label!r} block")
    reader = _sequence(der)
    _check_algorithm(reader.read(_SEQUENCE))
    bits = reader.read(_BIT_STRING)
    reader.finish()
    if not bits or bits[0] != 0:
        raise CryptoError("malformed public key bit string")
    return point_from_bytes(bits[1:])


# --- signatures and ciphertexts ---------------------------------------------------------------


def encode_signature(r: int, s: int) -> bytes:
    """DER ``SEQUENCE { r, s }``."""
    return der_tlv(_SEQUENCE, der_integer(r) + der_integer(s))


def decode_signature(der: bytes) -> tuple[int, int] | None:
    """(r, s) of a strict-DER signature with both values in [1, n - 1], else ``None``."""
    try:
        reader = _sequence(der)
        r = reader.read_integer()
        s = reader.read_integer()
        reader.finish()
    except CryptoError:
        return None
    if not (1 <= r < N and 1 <= s < N):
        return None
    return r, s


def encode_ciphertext(c1: Point, c3: bytes, c2: bytes) -> bytes:
    """GM/T 0009 ``SM2Cipher`` DER: x, y of C1, then C3 (SM3 hash), then C2."""
    return der_tlv(
        _SEQUENCE,
        der_integer(c1[0])
        + der_integer(c1[1])
        + der_tlv(_OCTET_STRING, c3)
        + der_tlv(_OCTET_STRING, c2),
    )


def decode_ciphertext(der: bytes) -> tuple[Point, bytes, bytes]:
    """(C1, C3, C2) of a GM/T 0009 ciphertext; raises :class:`CryptoError` when malformed."""
    if not isinstance(der, bytes | bytearray | memoryview):
        raise TypeError("an SM2 ciphertext is bytes")
    reader = _sequence(bytes(der))
    x = reader.read_integer()
    y = reader.read_integer()
    c3 = reader.read(_OCTET_STRING)
    c2 = reader.read(_OCTET_STRING)
    reader.finish()
    if not is_on_curve(x, y):
        raise CryptoError("malformed SM2 ciphertext: C1 is not a curve point")
    if len(c3) != SM3_SIZE:
        raise CryptoError("malformed SM2 ciphertext: C3 is not an SM3 hash")
    if not c2:
        raise CryptoError("malformed SM2 ciphertext: C2 is empty")
    return (x, y), c3, c2


def kdf(z: bytes, length: int) -> bytes:
    """The SM2 key derivation function with SM3 (GB/T 32918.4, 5.4.3)."""
    blocks = [sm3(z + counter.to_bytes(4, "big")) for counter in range(1, -(-length // 32) + 1)]
    return b"".join(blocks)[:length]
