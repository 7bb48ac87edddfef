"""SM3 and SM4 through ``cryptography`` (OpenSSL): fast and constant-time where it matters."""

from __future__ import annotations

import hmac as _hmac
import os

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SM4_KEY_SIZE = 16
SM4_BLOCK_SIZE = 16
GCM_NONCE_SIZE = 12
GCM_TAG_SIZE = 16


class CryptoError(ValueError):
    """Bad key, bad input or failed authentication."""


def sm3(data: bytes) -> bytes:
    """SM3 digest (GB/T 32905), 32 bytes."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_hex(data: bytes) -> str:
    return sm3(data).hex()


def sm3_hmac(key: bytes, data: bytes) -> bytes:
    """HMAC-SM3 (RFC 2104 construction with SM3), 32 bytes."""
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return _hmac.compare_digest(a, b)


def _check_key(key: bytes) -> None:
    if len(key) != SM4_KEY_SIZE:
        raise CryptoError(f"SM4 key must be {SM4_KEY_SIZE} bytes, got {len(key)}")


def sm4_cbc_encrypt(key: bytes, plaintext: bytes, iv: bytes | None = None) -> bytes:
    """SM4-CBC with PKCS#7 padding; returns ``iv || ciphertext`` (random IV unless given)."""
    _check_key(key)
    iv = iv if iv is not None else os.urandom(SM4_BLOCK_SIZE)
    if len(iv) != SM4_BLOCK_SIZE:
        raise CryptoError("SM4-CBC IV must be 16 bytes")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


def sm4_cbc_decrypt(key: bytes, data: bytes) -> bytes:
    """Inverse of :func:`sm4_cbc_encrypt`; raises :class:`CryptoError` on bad padding."""
    _check_key(key)
    if len(data) < 2 * SM4_BLOCK_SIZE or len(data) % SM4_BLOCK_SIZE:
        raise CryptoError("SM4-CBC data has the wrong length")
    iv, body = data[:SM4_BLOCK_SIZE], data[SM4_BLOCK_SIZE:]
    decryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(body) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CryptoError("SM4-CBC padding is invalid (wrong key or corrupted data)") from None


def sm4_ecb_encrypt_block(key: bytes, block: bytes) -> bytes:
    """One raw SM4 block (for the standard's test vectors; never use ECB for data)."""
    _check_key(key)
    if len(block) != SM4_BLOCK_SIZE:
        raise CryptoError("an SM4 block is 16 bytes")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305
    return encryptor.update(block) + encryptor.finalize()


def sm4_gcm_encrypt(
    key: bytes, plaintext: bytes, aad: bytes = b"", nonce: bytes | None = None
) -> bytes:
    """SM4-GCM; returns ``nonce(12) || ciphertext || tag(16)``."""
    _check_key(key)
    nonce = nonce if nonce is not None else os.urandom(GCM_NONCE_SIZE)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if aad:
        encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + body + encryptor.tag


def sm4_gcm_decrypt(key: bytes, data: bytes, aad: bytes = b"") -> bytes:
    """Inverse of :func:`sm4_gcm_encrypt`; raises :class:`CryptoError` if tampered."""
    _check_key(key)
    if len(data) < GCM_NONCE_SIZE + GCM_TAG_SIZE:
        raise CryptoError("SM4-GCM data is too short")
    nonce, body, tag = data[:GCM_NONCE_SIZE], data[GCM_NONCE_SIZE:-GCM_TAG_SIZE], data[-16:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    if aad:
        decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except Exception:  # cryptography raises InvalidTag
        raise CryptoError("SM4-GCM authentication failed (wrong key or tampered data)") from None
