"""The SM2 backend that calls the system OpenSSL 3 libcrypto through ctypes.

``cryptography`` exposes no SM2, but the libcrypto it sits on beside it (the system one, loaded
here by name) does: signatures go through ``EVP_DigestSign``/``EVP_DigestVerify`` with SM3 and
the user id set on the key context (OpenSSL then computes Z itself), encryption through
``EVP_PKEY_encrypt``/``EVP_PKEY_decrypt``, whose output is already the GM/T 0009 DER form.

Keys reach OpenSSL only as DER that ``_sm2_encoding`` built after validating them, so both
backends accept exactly the same inputs. Every native object is freed on every path: signing
makes one ``EVP_MD_CTX`` (which owns its ``EVP_PKEY_CTX``) and frees it before returning; each
``EVP_PKEY`` belongs to one :class:`OpenSSLKey` and is freed when that object is collected, so
a key evicted from the cache while another thread still signs with it stays valid. OpenSSL's
error queue is per thread; it is drained after every failure so stale errors never leak into a
later call. ctypes releases the GIL around each native call, so threads sign in parallel.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable
from ctypes import POINTER, byref, c_char_p, c_int, c_long, c_size_t, c_ulong, c_void_p
from typing import Any

from zwfw.core.crypto._sm2_encoding import (
    Point,
    check_scalar,
    decode_public_key,
    encode_private_key,
    encode_public_key,
)
from zwfw.core.crypto._symmetric import CryptoError

NAME = "openssl"

_OPENSSL_3 = 0x30000000
# DER of two 256-bit INTEGERs with their headers is at most 72 bytes.
_MAX_SIGNATURE_SIZE = 80

# GM/T 0003.5 (GB/T 32918.5) Annex A signature example, verified when the library loads: it
# proves SM2, SM3 and the user-id plumbing all work in this particular libcrypto build.
_SELF_TEST_POINT = (
    0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
    0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13,
)
_SELF_TEST_SIGNATURE = bytes.fromhex(
    "3046022100f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "022100b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)


def _library_candidates() -> list[str]:
    names = ["libcrypto.so.3"]
    if sys.platform == "darwin":
        names = ["libcrypto.3.dylib"]
    found = ctypes.util.find_library("crypto")
    if found and found not in names:
        names.append(found)
    return names


def _load_library() -> ctypes.CDLL:
    errors = []
    for name in _library_candidates():
        try:
            return ctypes.CDLL(name)
        except OSError as exc:
            errors.append(f"{name}: {exc}")
    raise OSError("libcrypto not found (" + "; ".join(errors) + ")")


class OpenSSLKey:
    """One native ``EVP_PKEY`` and its public point; frees the native key when collected."""

    __slots__ = ("_free", "handle", "point")

    def __init__(self, handle: int, point: Point, free: Callable[[int], None]) -> None:
        self.handle = handle
        self.point = point
        self._free = free

    def __del__(self) -> None:
        handle, self.handle = self.handle, 0
        if handle:
            self._free(handle)


class OpenSSLBackend:
    """SM2 through libcrypto; the constructor raises ``OSError`` when no usable SM2 is found."""

    name = NAME

    def __init__(self) -> None:
        lib = _load_library()
        self._lib = lib

        def bind(name: str, restype: Any, *argtypes: Any) -> Any:
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = list(argtypes)
            return function

        version = bind("OpenSSL_version_num", c_ulong)()
        if version < _OPENSSL_3:
            raise OSError(f"libcrypto {version:#x} is older than OpenSSL 3.0")

        self._err_get_error = bind("ERR_get_error", c_ulong)
        self._err_error_string_n = bind("ERR_error_string_n", None, c_ulong, c_char_p, c_size_t)
        self._err_clear_error = bind("ERR_clear_error", None)
        self._d2i_private = bind(
            "d2i_AutoPrivateKey", c_void_p, POINTER(c_void_p), POINTER(c_char_p), c_long
        )
        self._d2i_public = bind(
            "d2i_PUBKEY", c_void_p, POINTER(c_void_p), POINTER(c_char_p), c_long
        )
        self._i2d_public = bind("i2d_PUBKEY", c_int, c_void_p, POINTER(c_void_p))
        self._pkey_free = bind("EVP_PKEY_free", None, c_void_p)
        self._pkey_is_a = bind("EVP_PKEY_is_a", c_int, c_void_p, c_char_p)
        self._md_ctx_new = bind("EVP_MD_CTX_new", c_void_p)
        self._md_ctx_free = bind("EVP_MD_CTX_free", None, c_void_p)
        init_args = (c_void_p, POINTER(c_void_p), c_void_p, c_void_p, c_void_p)
        self._sign_init = bind("EVP_DigestSignInit", c_int, *init_args)
        self._verify_init = bind("EVP_DigestVerifyInit", c_int, *init_args)
        self._set1_id = bind("EVP_PKEY_CTX_set1_id", c_int, c_void_p, c_char_p, c_int)
        self._digest_sign = bind(
            "EVP_DigestSign", c_int, c_void_p, c_void_p, POINTER(c_size_t), c_char_p, c_size_t
        )
        self._digest_verify = bind(
            "EVP_DigestVerify", c_int, c_void_p, c_char_p, c_size_t, c_char_p, c_size_t
        )
        self._pkey_ctx_new = bind("EVP_PKEY_CTX_new", c_void_p, c_void_p, c_void_p)
        self._pkey_ctx_free = bind("EVP_PKEY_CTX_free", None, c_void_p)
        self._encrypt_init = bind("EVP_PKEY_encrypt_init", c_int, c_void_p)
        self._decrypt_init = bind("EVP_PKEY_decrypt_init", c_int, c_void_p)
        crypt_args = (c_void_p, c_void_p, POINTER(c_size_t), c_char_p, c_size_t)
        self._encrypt = bind("EVP_PKEY_encrypt", c_int, *crypt_args)
        self._decrypt = bind("EVP_PKEY_decrypt", c_int, *crypt_args)

        # Fetch SM3 once: handing EVP_DigestSignInit a fetched digest spares OpenSSL 3 an
        # implicit fetch per signature. The digest lives as long as the process.
        self._sm3 = bind("EVP_MD_fetch", c_void_p, c_void_p, c_char_p, c_char_p)(None, b"SM3", None)
        if not self._sm3:
            raise OSError("libcrypto has no SM3: " + self._drain_errors())
        try:
            key = self.load_public(_SELF_TEST_POINT)
            ok = self.verify(key, b"message digest", _SELF_TEST_SIGNATURE, b"1234567812345678")
        except CryptoError as exc:
            raise OSError(f"libcrypto has no usable SM2: {exc}") from None
        if not ok:
            raise OSError("libcrypto's SM2 failed the GM/T 0003.5 signature example")

    # --- errors -------------------------------------------------------------------------------

    def _drain_errors(self) -> str:
        """The thread's OpenSSL error queue as text, leaving the queue empty."""
        messages = []
        buffer = ctypes.create_string_buffer(256)
        while code := self._err_get_error():
            self._err_error_string_n(code, buffer, len(buffer))
            messages.append(buffer.value.decode("ascii", "replace"))
        return "; ".join(messages) or "unknown OpenSSL error"

    def _fail(self, what: str) -> CryptoError:
        return CryptoError(f"{what} failed: {self._drain_errors()}")

    # --- keys ---------------------------------------------------------------------------------

    def _own(self, handle: int | None, what: str) -> int:
        if not handle:
            raise self._fail(what)
        if self._pkey_is_a(handle, b"SM2") != 1:
            self._pkey_free(handle)
            self._err_clear_error()
            raise CryptoError(f"{what}: libcrypto did not read an SM2 key")
        return handle

    def load_private(self, d: int) -> OpenSSLKey:
        # The public point is left out on purpose: OpenSSL derives it from d while decoding,
        # and reading it back gives the point to check any stored copy against.
        der = encode_private_key(check_scalar(d), None)
        handle = self._own(
            self._d2i_private(None, byref(c_char_p(der)), len(der)), "reading the private key"
        )
        key = OpenSSLKey(handle, (0, 0), self._pkey_free)
        key.point = self._public_point_of(handle)
        return key

    def _public_point_of(self, handle: int) -> Point:
        size = self._i2d_public(handle, None)
        if size <= 0:
            raise self._fail("exporting the public key")
        buffer = ctypes.create_string_buffer(size)
        cursor = c_void_p(ctypes.addressof(buffer))  # i2d advances it: pass a copy
        if self._i2d_public(handle, byref(cursor)) != size:
            raise self._fail("exporting the public key")
        return decode_public_key(buffer.raw)

    def load_public(self, point: Point) -> OpenSSLKey:
        der = encode_public_key(point)
        handle = self._own(
            self._d2i_public(None, byref(c_char_p(der)), len(der)), "reading the public key"
        )
        return OpenSSLKey(handle, point, self._pkey_free)

    def private_point(self, key: OpenSSLKey) -> Point:
        return key.point

    # --- signatures ---------------------------------------------------------------------------

    def _digest_context(self, key: OpenSSLKey, uid: bytes, init: Any, what: str) -> int:
        """An ``EVP_MD_CTX`` ready to sign or verify with SM3 and the SM2 user id ``uid``."""
        md_ctx = self._md_ctx_new()
        if not md_ctx:
            raise self._fail(what)
        pkey_ctx = c_void_p()  # owned by md_ctx, freed with it
        if init(md_ctx, byref(pkey_ctx), self._sm3, None, key.handle) != 1 or (
            # After init and before the first update is when OpenSSL 3 takes the id.
            self._set1_id(pkey_ctx, uid, len(uid)) <= 0
        ):
            self._md_ctx_free(md_ctx)
            raise self._fail(what)
        return int(md_ctx)

    def sign(self, key: OpenSSLKey, data: bytes, uid: bytes) -> bytes:
        md_ctx = self._digest_context(key, uid, self._sign_init, "SM2 signing")
        try:
            signature = ctypes.create_string_buffer(_MAX_SIGNATURE_SIZE)
            size = c_size_t(_MAX_SIGNATURE_SIZE)
            if self._digest_sign(md_ctx, signature, byref(size), data, len(data)) != 1:
                raise self._fail("SM2 signing")
            return signature.raw[: size.value]
        finally:
            self._md_ctx_free(md_ctx)

    def verify(self, key: OpenSSLKey, data: bytes, signature: bytes, uid: bytes) -> bool:
        md_ctx = self._digest_context(key, uid, self._verify_init, "SM2 verification")
        try:
            result = self._digest_verify(md_ctx, signature, len(signature), data, len(data))
            if result != 1:
                # A bad signature leaves reasons on the queue; they must not leak to others.
                self._err_clear_error()
            return result == 1
        finally:
            self._md_ctx_free(md_ctx)

    # --- encryption ---------------------------------------------------------------------------

    def _crypt(self, key: OpenSSLKey, data: bytes, *, encrypt: bool) -> bytes:
        what = "SM2 encryption" if encrypt else "SM2 decryption"
        init, operate = (
            (self._encrypt_init, self._encrypt) if encrypt else (self._decrypt_init, self._decrypt)
        )
        pkey_ctx = self._pkey_ctx_new(key.handle, None)
        if not pkey_ctx:
            raise self._fail(what)
        try:
            size = c_size_t(0)
            if init(pkey_ctx) != 1 or operate(pkey_ctx, None, byref(size), data, len(data)) != 1:
                raise self._fail(what)
            output = ctypes.create_string_buffer(size.value)
            if operate(pkey_ctx, output, byref(size), data, len(data)) != 1:
                raise self._fail(what)
            return output.raw[: size.value]
        finally:
            self._pkey_ctx_free(pkey_ctx)

    def encrypt(self, key: OpenSSLKey, plaintext: bytes) -> bytes:
        if not plaintext:
            raise CryptoError("SM2 cannot encrypt an empty message")
        return self._crypt(key, plaintext, encrypt=True)

    def decrypt(self, key: OpenSSLKey, ciphertext: bytes) -> bytes:
        try:
            return self._crypt(key, ciphertext, encrypt=False)
        except CryptoError:
            # OpenSSL's reasons (hash mismatch, decoding) add nothing a caller can act on.
            raise CryptoError("SM2 decryption failed (wrong key or corrupted ciphertext)") from None
