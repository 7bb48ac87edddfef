"""The pure-Python SM2 backend: curve arithmetic from ``gmalg``, the scheme written out here.

It is the fallback for systems whose libcrypto has no SM2 (some distributions build OpenSSL
without the Chinese algorithms). It is correct and uses secure nonces (``secrets``) but is slow
(tens of operations per second) and, like any big-integer Python code, not constant-time: prefer
the OpenSSL backend wherever it loads.

The scheme itself (Z value, KDF, signature and encryption equations, constant-time hash
comparison) is written out here rather than taken from ``gmalg.SM2`` so that hashing goes through
the fast SM3 of ``cryptography`` and so that tests can pass the standard's fixed nonce ``k``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from gmalg.ellipticcurve import ECDLP

from zwfw.core.crypto._sm2_encoding import (
    FIELD_SIZE,
    GX,
    GY,
    A,
    B,
    N,
    P,
    Point,
    check_point,
    check_scalar,
    decode_ciphertext,
    decode_signature,
    encode_ciphertext,
    encode_signature,
    kdf,
    z_value,
)
from zwfw.core.crypto._symmetric import CryptoError, sm3

NAME = "python"

_CURVE = ECDLP(P, A, B, (GX, GY), N)


@dataclass(frozen=True, slots=True)
class PythonPrivateKey:
    d: int
    point: Point
    inverse_one_plus_d: int  # (1 + d)^-1 mod n, used by every signature


@dataclass(frozen=True, slots=True)
class PythonPublicKey:
    point: Point


def _base_multiply(k: int) -> Point:
    x, y = _CURVE.kG(k)
    return int(x), int(y)


def _multiply(k: int, point: Point) -> Point:
    x, y = _CURVE.ec.mul(k, point)
    return int(x), int(y)


def _random_scalar() -> int:
    """Uniform in [1, n - 1] from the operating system's CSPRNG."""
    return secrets.randbelow(N - 1) + 1


def _to_int(data: bytes) -> int:
    return int.from_bytes(data, "big")


def _xor(data: bytes, key_stream: bytes) -> bytes:
    return (_to_int(data) ^ _to_int(key_stream)).to_bytes(len(data), "big")


class PythonBackend:
    """SM2 with ``gmalg``'s curve arithmetic (see the module docstring)."""

    name = NAME

    def load_private(self, d: int) -> PythonPrivateKey:
        d = check_scalar(d)
        return PythonPrivateKey(d, _base_multiply(d), pow(1 + d, -1, N))

    def load_public(self, point: Point) -> PythonPublicKey:
        return PythonPublicKey(check_point(*point))

    def private_point(self, key: PythonPrivateKey) -> Point:
        return key.point

    def sign(
        self, key: PythonPrivateKey, data: bytes, uid: bytes, *, nonce: int | None = None
    ) -> bytes:
        """GB/T 32918.2, 6.1. ``nonce`` fixes k for the standard's examples (tests only)."""
        e = _to_int(sm3(z_value(uid, key.point) + data))
        while True:
            k = _random_scalar() if nonce is None else nonce
            x1, _ = _base_multiply(k)
            r = (e + x1) % N
            s = key.inverse_one_plus_d * (k - r * key.d) % N
            if r != 0 and r + k != N and s != 0:
                return encode_signature(r, s)
            if nonce is not None:
                raise CryptoError("the given nonce yields a degenerate signature")

    def verify(self, key: PythonPublicKey, data: bytes, signature: bytes, uid: bytes) -> bool:
        """GB/T 32918.2, 7.1."""
        decoded = decode_signature(signature)
        if decoded is None:
            return False
        r, s = decoded
        t = (r + s) % N
        if t == 0:
            return False
        e = _to_int(sm3(z_value(uid, key.point) + data))
        total = _CURVE.ec.add(_CURVE.kG(s), _CURVE.ec.mul(t, key.point))
        if total == _CURVE.ec.INF:
            return False
        return (e + int(total[0])) % N == r

    def encrypt(self, key: PythonPublicKey, plaintext: bytes, *, nonce: int | None = None) -> bytes:
        """GB/T 32918.4, 6.1, output as GM/T 0009 DER (C1, C3, C2)."""
        if not plaintext:
            raise CryptoError("SM2 cannot encrypt an empty message")
        while True:
            k = _random_scalar() if nonce is None else nonce
            c1 = _base_multiply(k)
            # The cofactor is 1 and the key was checked to be a curve point, so [h]P != O.
            x2, y2 = _multiply(k, key.point)
            x2b, y2b = x2.to_bytes(FIELD_SIZE, "big"), y2.to_bytes(FIELD_SIZE, "big")
            key_stream = kdf(x2b + y2b, len(plaintext))
            if any(key_stream):
                c2 = _xor(plaintext, key_stream)
                c3 = sm3(x2b + plaintext + y2b)
                return encode_ciphertext(c1, c3, c2)
            if nonce is not None:
                raise CryptoError("the given nonce yields an all-zero key stream")

    def decrypt(self, key: PythonPrivateKey, ciphertext: bytes) -> bytes:
        """GB/T 32918.4, 7.1; raises :class:`CryptoError` when the hash C3 does not match."""
        c1, c3, c2 = decode_ciphertext(ciphertext)
        x2, y2 = _multiply(key.d, c1)
        x2b, y2b = x2.to_bytes(FIELD_SIZE, "big"), y2.to_bytes(FIELD_SIZE, "big")
        key_stream = kdf(x2b + y2b, len(c2))
        if not any(key_stream):
            raise CryptoError("SM2 decryption failed")
        plaintext = _xor(c2, key_stream)
        if not hmac.compare_digest(sm3(x2b + plaintext + y2b), c3):
            raise CryptoError("SM2 decryption failed (wrong key or corrupted ciphertext)")
        return plaintext
