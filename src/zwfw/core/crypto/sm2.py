"""SM2 signatures and public-key encryption (GB/T 32918), interoperable with OpenSSL 3.

Keys are PEM bytes in the forms ``openssl genpkey -algorithm SM2`` and ``openssl pkey -pubout``
write (PKCS#8 "PRIVATE KEY", SubjectPublicKeyInfo "PUBLIC KEY"; SEC 1 "EC PRIVATE KEY" is read
too). Signatures are DER ``SEQUENCE {r, s}`` over SM3(Z || message), Z computed with the user
id, which defaults to ``1234567812345678`` (GM/T 0009) — what other systems assume when they
name none, except the OpenSSL 3.0 CLI, which hashes an empty id unless given
``-sigopt distid:1234567812345678``. Ciphertexts are GM/T 0009 DER (C1, C3, C2), what
``openssl pkeyutl -encrypt`` produces.

Two backends do the work (chosen by the ``ZWFW_CRYPTO_BACKEND`` environment variable):

* ``openssl`` — the system libcrypto through ctypes (thousands of operations per second);
* ``python`` — pure Python on ``gmalg``'s curve arithmetic (50–100 per second, not
  constant-time);
* ``auto`` (the default) — ``openssl`` when libcrypto loads and passes the SM2 self-test, else
  ``python``.

Both accept and reject the same inputs (the encodings are parsed and validated here first) and
each one's signatures and ciphertexts are accepted by the other. Errors are
:class:`~zwfw.core.crypto.CryptoError` (a ``ValueError``): malformed keys, ids that are too long,
failed decryption. ``sm2_verify`` answers ``False`` for any bad signature instead of raising.
Parsed keys are cached per PEM (a small LRU, safe across threads).
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import OrderedDict
from typing import Any, Protocol

from zwfw.core.crypto import _sm2_encoding as encoding
from zwfw.core.crypto._symmetric import CryptoError

DEFAULT_SM2_UID = b"1234567812345678"
BACKEND_ENV_VAR = "ZWFW_CRYPTO_BACKEND"
_BACKEND_CHOICES = ("auto", "openssl", "python")

__all__ = [
    "BACKEND_ENV_VAR",
    "DEFAULT_SM2_UID",
    "sm2_backend",
    "sm2_ciphertext_from_raw",
    "sm2_ciphertext_to_raw",
    "sm2_decrypt",
    "sm2_encrypt",
    "sm2_generate_key",
    "sm2_private_pem_from_scalar",
    "sm2_public_from_private",
    "sm2_public_pem_from_point",
    "sm2_public_point",
    "sm2_sign",
    "sm2_signature_from_raw",
    "sm2_signature_to_raw",
    "sm2_verify",
]


class _Backend(Protocol):
    name: str

    def load_private(self, d: int) -> Any: ...
    def load_public(self, point: encoding.Point) -> Any: ...
    def private_point(self, key: Any) -> encoding.Point: ...
    def sign(self, key: Any, data: bytes, uid: bytes) -> bytes: ...
    def verify(self, key: Any, data: bytes, signature: bytes, uid: bytes) -> bool: ...
    def encrypt(self, key: Any, plaintext: bytes) -> bytes: ...
    def decrypt(self, key: Any, ciphertext: bytes) -> bytes: ...


# --- backend selection ------------------------------------------------------------------------

_backend_lock = threading.Lock()
_backends: dict[str, _Backend] = {}
_openssl_failure: str | None = None


def _openssl() -> _Backend | None:
    """The libcrypto backend, loaded once; ``None`` (with the reason kept) when unusable."""
    global _openssl_failure  # noqa: PLW0603 — a process-wide, load-once handle
    loaded = _backends.get("openssl")
    if loaded is not None:  # the common case, without taking the lock
        return loaded
    with _backend_lock:
        if "openssl" in _backends:
            return _backends["openssl"]
        if _openssl_failure is not None:
            return None
        try:
            from zwfw.core.crypto._sm2_openssl import OpenSSLBackend

            backend: _Backend = OpenSSLBackend()
        except (OSError, AttributeError) as exc:  # AttributeError: a symbol is missing
            _openssl_failure = str(exc) or type(exc).__name__
            return None
        _backends["openssl"] = backend
        return backend


def _python() -> _Backend:
    with _backend_lock:
        if "python" not in _backends:
            from zwfw.core.crypto._sm2_python import PythonBackend

            _backends["python"] = PythonBackend()
        return _backends["python"]


def _backend() -> _Backend:
    choice = os.environ.get(BACKEND_ENV_VAR, "auto").strip().lower() or "auto"
    if choice == "python":
        return _python()
    if choice == "openssl":
        backend = _openssl()
        if backend is None:
            raise CryptoError(
                f"{BACKEND_ENV_VAR}=openssl but libcrypto's SM2 is unusable: {_openssl_failure}"
            )
        return backend
    if choice == "auto":
        return _openssl() or _python()
    raise CryptoError(f"{BACKEND_ENV_VAR} must be one of {', '.join(_BACKEND_CHOICES)}")


def sm2_backend() -> str:
    """The name of the backend SM2 calls use now: ``"openssl"`` or ``"python"``.

    Raises :class:`CryptoError` when ``ZWFW_CRYPTO_BACKEND`` is invalid or asks for an
    unusable ``openssl``.
    """
    return _backend().name


# --- parsed-key cache -------------------------------------------------------------------------


class _KeyCache:
    """A small thread-safe LRU of parsed keys (parsing and loading costs more than signing)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, bytes], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, bytes]) -> Any:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, str, bytes], value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                # Only the cache's reference goes: a thread still using the key keeps it alive.
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _KeyCache(64)


def _pem_bytes(pem: bytes | str) -> bytes:
    if isinstance(pem, str):
        return pem.encode("ascii", "replace")
    if not isinstance(pem, bytes | bytearray | memoryview):
        raise TypeError("an SM2 key is PEM bytes")
    return bytes(pem)


def _data_bytes(data: bytes, what: str = "data") -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"SM2 {what} must be bytes, not {type(data).__name__}")


def _private_key(backend: _Backend, pem: bytes | str) -> Any:
    pem = _pem_bytes(pem)
    cache_key = (backend.name, "private", pem)
    key = _cache.get(cache_key)
    if key is None:
        label, der = encoding.pem_decode(pem)
        data = encoding.decode_private_key(der, label)
        key = backend.load_private(data.d)
        # Signing hashes the public point into Z: a stale stored point would make every
        # signature fail to verify, so a mismatch is refused at load time.
        if data.point is not None and data.point != backend.private_point(key):
            raise CryptoError("the public key stored with the SM2 private key does not match it")
        _cache.put(cache_key, key)
    return key


def _public_point(pem: bytes | str) -> encoding.Point:
    label, der = encoding.pem_decode(_pem_bytes(pem))
    return encoding.decode_public_key(der, label)


def _public_key(backend: _Backend, pem: bytes | str) -> Any:
    pem = _pem_bytes(pem)
    cache_key = (backend.name, "public", pem)
    key = _cache.get(cache_key)
    if key is None:
        key = backend.load_public(_public_point(pem))
        _cache.put(cache_key, key)
    return key


# --- keys -------------------------------------------------------------------------------------


def _key_pair_from_scalar(d: int) -> tuple[bytes, bytes]:
    backend = _backend()
    key = backend.load_private(encoding.check_scalar(d))
    point = backend.private_point(key)
    private_pem = encoding.pem_encode("PRIVATE KEY", encoding.encode_private_key(d, point))
    # A new key is usually used right away: keep the loaded one instead of parsing it again.
    _cache.put((backend.name, "private", private_pem), key)
    return private_pem, encoding.pem_encode("PUBLIC KEY", encoding.encode_public_key(point))


def sm2_private_pem_from_scalar(d: int) -> bytes:
    """PKCS#8 PEM of the private key ``d`` (with its public point, as OpenSSL writes it).

    For importing keys and the standards' test vectors. Raises :class:`CryptoError` unless
    1 <= d <= n - 2.
    """
    return _key_pair_from_scalar(d)[0]


def sm2_public_pem_from_point(x: int, y: int) -> bytes:
    """SubjectPublicKeyInfo PEM of the point (x, y); raises :class:`CryptoError` if off-curve."""
    return encoding.pem_encode("PUBLIC KEY", encoding.encode_public_key((x, y)))


def sm2_generate_key() -> tuple[bytes, bytes]:
    """A new key pair ``(private_pem, public_pem)``; the scalar comes from ``secrets``."""
    return _key_pair_from_scalar(secrets.randbelow(encoding.N - 2) + 1)


def sm2_public_from_private(private_pem: bytes) -> bytes:
    """The public-key PEM belonging to a private-key PEM; raises :class:`CryptoError`."""
    backend = _backend()
    point = backend.private_point(_private_key(backend, private_pem))
    return encoding.pem_encode("PUBLIC KEY", encoding.encode_public_key(point))


def sm2_public_point(public_pem: bytes) -> tuple[int, int]:
    """The (x, y) coordinates of a public-key PEM; raises :class:`CryptoError`."""
    return _public_point(public_pem)


# --- signatures -------------------------------------------------------------------------------


def sm2_sign(private_pem: bytes, data: bytes, uid: bytes = DEFAULT_SM2_UID) -> bytes:
    """Sign ``data`` (SM2 with SM3, Z computed with ``uid``); returns DER ``SEQUENCE {r, s}``.

    Every signature uses a fresh random nonce, so signing twice gives different bytes.
    Raises :class:`CryptoError` for a malformed private key or a ``uid`` over 8190 bytes.
    """
    backend = _backend()
    key = _private_key(backend, private_pem)
    return backend.sign(key, _data_bytes(data), encoding.check_uid(uid))


def sm2_verify(
    public_pem: bytes, data: bytes, signature: bytes, uid: bytes = DEFAULT_SM2_UID
) -> bool:
    """Whether ``signature`` (DER) is a valid SM2 signature of ``data`` for ``uid``.

    Any bad signature — wrong key, data or uid, flipped bits, garbage, empty, not strict DER,
    r or s out of range, not bytes at all — gives ``False``, never an exception. A malformed
    *public key* or ``uid`` raises :class:`CryptoError` instead (and ``data`` that is not bytes
    ``TypeError``): those are errors of the caller's configuration or code, which silently
    answering "invalid" would hide.
    """
    backend = _backend()
    key = _public_key(backend, public_pem)
    uid = encoding.check_uid(uid)
    if not isinstance(signature, bytes | bytearray | memoryview):
        return False
    signature = bytes(signature)
    if encoding.decode_signature(signature) is None:
        return False
    return backend.verify(key, _data_bytes(data), signature, uid)


def sm2_signature_to_raw(signature: bytes) -> bytes:
    """DER signature to the 64-byte ``r || s`` form (GM/T 0009 raw, used by JavaScript
    libraries); raises :class:`CryptoError` when the DER is malformed."""
    decoded = encoding.decode_signature(_data_bytes(signature, "signature"))
    if decoded is None:
        raise CryptoError("malformed SM2 signature")
    r, s = decoded
    return r.to_bytes(encoding.FIELD_SIZE, "big") + s.to_bytes(encoding.FIELD_SIZE, "big")


def sm2_signature_from_raw(raw: bytes) -> bytes:
    """The 64-byte ``r || s`` form to DER; raises :class:`CryptoError` on a wrong length."""
    raw = _data_bytes(raw, "signature")
    if len(raw) != 2 * encoding.FIELD_SIZE:
        raise CryptoError("a raw SM2 signature is 64 bytes (r || s)")
    r = int.from_bytes(raw[: encoding.FIELD_SIZE], "big")
    s = int.from_bytes(raw[encoding.FIELD_SIZE :], "big")
    return encoding.encode_signature(r, s)


# --- encryption -------------------------------------------------------------------------------


def sm2_encrypt(public_pem: bytes, plaintext: bytes) -> bytes:
    """Encrypt for the holder of ``public_pem``; returns GM/T 0009 DER (C1, C3, C2).

    Raises :class:`CryptoError` for a malformed key or an empty plaintext (SM2 cannot encrypt
    zero bytes: its key stream would be empty, which the standard rejects).
    """
    backend = _backend()
    key = _public_key(backend, public_pem)
    return backend.encrypt(key, _data_bytes(plaintext, "plaintext"))


def sm2_decrypt(private_pem: bytes, ciphertext: bytes) -> bytes:
    """Decrypt a GM/T 0009 DER ciphertext; raises :class:`CryptoError` on any failure
    (malformed key or ciphertext, wrong key, tampered ciphertext)."""
    backend = _backend()
    key = _private_key(backend, private_pem)
    ciphertext = _data_bytes(ciphertext, "ciphertext")
    encoding.decode_ciphertext(ciphertext)  # same validation for both backends
    return backend.decrypt(key, ciphertext)


def sm2_ciphertext_from_raw(raw: bytes) -> bytes:
    """Raw ``04 || x || y || C3 || C2`` (the C1C3C2 layout of GB/T 32918.4 with an
    uncompressed C1) to GM/T 0009 DER; raises :class:`CryptoError` when malformed.

    Some JavaScript libraries drop the leading ``04``: add it back before calling (it cannot
    be guessed, since x itself may start with the byte 04).
    """
    raw = _data_bytes(raw, "ciphertext")
    c1_size = 1 + 2 * encoding.FIELD_SIZE
    if len(raw) <= c1_size + encoding.SM3_SIZE or raw[0] != 0x04:
        raise CryptoError("a raw SM2 ciphertext is 04 || x || y (65 bytes), C3 (32) and C2")
    x, y = encoding.point_from_bytes(raw[:c1_size])
    c3 = raw[c1_size : c1_size + encoding.SM3_SIZE]
    return encoding.encode_ciphertext((x, y), c3, raw[c1_size + encoding.SM3_SIZE :])


def sm2_ciphertext_to_raw(ciphertext: bytes) -> bytes:
    """GM/T 0009 DER to raw ``04 || x || y || C3 || C2``; raises :class:`CryptoError`."""
    c1, c3, c2 = encoding.decode_ciphertext(_data_bytes(ciphertext, "ciphertext"))
    return encoding.point_to_bytes(c1) + c3 + c2
