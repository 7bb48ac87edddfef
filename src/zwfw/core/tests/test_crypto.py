"""National cryptography: the standards' own examples, OpenSSL CLI interop, both SM2 backends.

Sources of the expected values:

* SM3 — GB/T 32905-2016, Appendix A (examples 1 and 2).
* HMAC-SM3 — GM/T 0042-2015, Appendix D.3.
* SM4 — GB/T 32907-2016, Appendix A (examples 1 and 2); SM4-GCM — RFC 8998, Appendix A.1.
* SM2 — the examples of GM/T 0003.5-2012 (= GB/T 32918.5-2017), which use the recommended
  curve sm2p256v1 and the user id "1234567812345678": key pair, Z_A, e, nonce k, (r, s) of the
  signature of "message digest", and C1, C3, C2 of the encryption of "encryption standard".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from zwfw.core import crypto
from zwfw.core.crypto import (
    DEFAULT_SM2_UID,
    CryptoError,
    sm2_backend,
    sm2_ciphertext_from_raw,
    sm2_ciphertext_to_raw,
    sm2_decrypt,
    sm2_encrypt,
    sm2_generate_key,
    sm2_private_pem_from_scalar,
    sm2_public_from_private,
    sm2_public_pem_from_point,
    sm2_public_point,
    sm2_sign,
    sm2_signature_from_raw,
    sm2_signature_to_raw,
    sm2_verify,
    sm3,
    sm3_hex,
    sm3_hmac,
    sm4_cbc_decrypt,
    sm4_cbc_encrypt,
    sm4_ecb_encrypt_block,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)
from zwfw.core.crypto import _sm2_encoding as encoding
from zwfw.core.crypto import sm2 as sm2_module
from zwfw.core.crypto._sm2_python import PythonBackend

# --- GM/T 0003.5 examples on the recommended curve --------------------------------------------

GM_D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
GM_X = 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020
GM_Y = 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13
GM_UID = b"1234567812345678"
GM_K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
GM_SIGN_MESSAGE = b"message digest"
GM_ZA = "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
GM_E = "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640"
GM_R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
GM_S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
GM_ENCRYPT_MESSAGE = b"encryption standard"
# The ciphertext as the standard prints it: C1 (04 || x1 || y1), then C3, then C2.
GM_C1 = (
    "04"
    "04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73"
    "e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0"
)
GM_C3 = "59983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766"
GM_C2 = "21886ca989ca9c7d58087307ca93092d651efa"
# The same ciphertext in GM/T 0009 DER, worked out by hand from the fields above.
GM_CIPHERTEXT_DER = bytes.fromhex(
    "307c0220" + GM_C1[2:66] + "0221" + "00" + GM_C1[66:] + "0420" + GM_C3 + "0413" + GM_C2
)

BACKENDS = ["openssl", "python"]
OPENSSL_CLI = shutil.which("openssl")
needs_cli = pytest.mark.skipif(OPENSSL_CLI is None, reason="the openssl command is not on PATH")


def _openssl_backend_usable() -> bool:
    return sm2_module._openssl() is not None


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once per SM2 backend (selected through the environment, as in production)."""
    name: str = request.param
    if name == "openssl" and not _openssl_backend_usable():
        pytest.skip(f"libcrypto SM2 unusable here: {sm2_module._openssl_failure}")
    monkeypatch.setenv("ZWFW_CRYPTO_BACKEND", name)
    assert sm2_backend() == name
    return name


def use_backend(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    if name == "openssl" and not _openssl_backend_usable():
        pytest.skip("libcrypto SM2 unusable here")
    monkeypatch.setenv("ZWFW_CRYPTO_BACKEND", name)


@pytest.fixture(scope="module")
def keypair() -> tuple[bytes, bytes]:
    return sm2_generate_key()


def run_openssl(
    *args: str | Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL_CLI is not None
    return subprocess.run(
        [OPENSSL_CLI, *map(str, args)], input=stdin, capture_output=True, check=False, timeout=30
    )


def flip_bit(data: bytes, index: int, bit: int = 0) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 1 << bit
    return bytes(changed)


# --- SM3 --------------------------------------------------------------------------------------


def test_sm3_gbt32905_examples() -> None:
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


@pytest.mark.parametrize(
    ("key", "message", "expected"),
    [
        (
            bytes(range(1, 33)),
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2,
            "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a",
        ),
        (
            bytes(range(1, 38)),
            b"\xcd" * 50,
            "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae",
        ),
        (
            b"\x0b" * 32,
            b"Hi There",
            "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e",
        ),
        (
            b"Jefe",
            b"what do ya want for nothing?",
            "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882",
        ),
    ],
)
def test_hmac_sm3_gmt0042_examples(key: bytes, message: bytes, expected: str) -> None:
    assert sm3_hmac(key, message).hex() == expected


# --- SM4 --------------------------------------------------------------------------------------

SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def test_sm4_gbt32907_example_1() -> None:
    assert sm4_ecb_encrypt_block(SM4_KEY, SM4_KEY).hex() == "681edf34d206965e86b3e94f536e4246"


def test_sm4_gbt32907_example_2_million_iterations() -> None:
    # About 3 s here: under the 5 s the suite allows before a test is marked slow.
    block = SM4_KEY
    for _ in range(1_000_000):
        block = sm4_ecb_encrypt_block(SM4_KEY, block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm4_gcm_rfc8998_example() -> None:
    nonce = bytes.fromhex("00001234567800000000abcd")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    plaintext = bytes.fromhex(
        "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
        "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
    )
    expected = bytes.fromhex(
        "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
        "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
        "83de3541e4c2b58177e065a9bf7b62ec"
    )
    sealed = sm4_gcm_encrypt(SM4_KEY, plaintext, aad=aad, nonce=nonce)
    assert sealed == nonce + expected
    assert sm4_gcm_decrypt(SM4_KEY, sealed, aad=aad) == plaintext


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_sm4_cbc_round_trip(size: int) -> None:
    plaintext = os.urandom(size)
    sealed = sm4_cbc_encrypt(SM4_KEY, plaintext)
    assert len(sealed) == 16 + (size // 16 + 1) * 16
    assert sm4_cbc_decrypt(SM4_KEY, sealed) == plaintext
    # A fresh random IV each time: the same plaintext never gives the same ciphertext.
    assert sm4_cbc_encrypt(SM4_KEY, plaintext) != sealed


@needs_cli
def test_sm4_cbc_matches_openssl_cli() -> None:
    iv = bytes(range(16))
    plaintext = b"personal data at rest: 110101199003070011"
    result = run_openssl("enc", "-sm4-cbc", "-K", SM4_KEY.hex(), "-iv", iv.hex(), stdin=plaintext)
    assert result.returncode == 0, result.stderr
    assert sm4_cbc_encrypt(SM4_KEY, plaintext, iv=iv) == iv + result.stdout


def test_sm4_cbc_wrong_key_or_damage_never_yields_the_plaintext() -> None:
    plaintext = b"0123456789abcdef" * 3
    iv = bytes(16)
    sealed = sm4_cbc_encrypt(SM4_KEY, plaintext, iv=iv)
    other_key = bytes(16)
    # CBC has no integrity: a wrong key or damage is caught only when the padding breaks, so
    # the promise is "CryptoError or different bytes", never the original plaintext.
    for key, data in [(other_key, sealed), (SM4_KEY, flip_bit(sealed, 20))]:
        with contextlib.suppress(CryptoError):
            assert sm4_cbc_decrypt(key, data) != plaintext
    # These two are deterministic (fixed key, IV and plaintext) and both break the padding.
    with pytest.raises(CryptoError):
        sm4_cbc_decrypt(other_key, sealed)
    with pytest.raises(CryptoError):
        sm4_cbc_decrypt(SM4_KEY, flip_bit(sealed, len(sealed) - 1))
    with pytest.raises(CryptoError):
        sm4_cbc_decrypt(SM4_KEY, sealed[:-1])
    with pytest.raises(CryptoError):
        sm4_cbc_encrypt(b"short", plaintext)


@pytest.mark.parametrize("size", [0, 1, 16, 1000])
def test_sm4_gcm_round_trip_and_tamper_detection(size: int) -> None:
    plaintext = os.urandom(size)
    sealed = sm4_gcm_encrypt(SM4_KEY, plaintext, aad=b"case:42")
    assert len(sealed) == 12 + size + 16
    assert sm4_gcm_decrypt(SM4_KEY, sealed, aad=b"case:42") == plaintext
    for index in range(len(sealed)):  # nonce, every ciphertext byte, tag
        with pytest.raises(CryptoError):
            sm4_gcm_decrypt(SM4_KEY, flip_bit(sealed, index, index % 8), aad=b"case:42")
    with pytest.raises(CryptoError):
        sm4_gcm_decrypt(SM4_KEY, sealed, aad=b"case:43")
    with pytest.raises(CryptoError):
        sm4_gcm_decrypt(bytes(16), sealed, aad=b"case:42")
    with pytest.raises(CryptoError):
        sm4_gcm_decrypt(SM4_KEY, sealed[:27])


# --- SM2: the standard's examples -------------------------------------------------------------


def test_sm2_published_z_value_and_digest() -> None:
    za = encoding.z_value(GM_UID, (GM_X, GM_Y))
    assert za.hex() == GM_ZA
    assert sm3(za + GM_SIGN_MESSAGE).hex() == GM_E


def test_sm2_published_key_pair(backend: str) -> None:
    private_pem = sm2_private_pem_from_scalar(GM_D)
    assert sm2_public_point(sm2_public_from_private(private_pem)) == (GM_X, GM_Y)
    assert sm2_public_from_private(private_pem) == sm2_public_pem_from_point(GM_X, GM_Y)


def test_sm2_published_signature_verifies(backend: str) -> None:
    public_pem = sm2_public_pem_from_point(GM_X, GM_Y)
    signature = encoding.encode_signature(GM_R, GM_S)
    assert sm2_verify(public_pem, GM_SIGN_MESSAGE, signature, uid=GM_UID)
    assert not sm2_verify(public_pem, GM_SIGN_MESSAGE + b".", signature, uid=GM_UID)
    assert not sm2_verify(public_pem, GM_SIGN_MESSAGE, signature, uid=b"ALICE123@YAHOO.COM")


def test_sm2_published_signature_reproduced_with_the_published_nonce() -> None:
    # Test-only path: the python backend takes a fixed k, as the standard's example does.
    python = PythonBackend()
    key = python.load_private(GM_D)
    signature = python.sign(key, GM_SIGN_MESSAGE, GM_UID, nonce=GM_K)
    assert encoding.decode_signature(signature) == (GM_R, GM_S)
    assert sm2_signature_to_raw(signature).hex() == f"{GM_R:064x}{GM_S:064x}"


def test_sm2_published_ciphertext_reproduced_with_the_published_nonce() -> None:
    python = PythonBackend()
    key = python.load_public((GM_X, GM_Y))
    ciphertext = python.encrypt(key, GM_ENCRYPT_MESSAGE, nonce=GM_K)
    assert ciphertext == GM_CIPHERTEXT_DER
    assert sm2_ciphertext_to_raw(ciphertext).hex() == GM_C1 + GM_C3 + GM_C2


def test_sm2_published_ciphertext_decrypts(backend: str) -> None:
    private_pem = sm2_private_pem_from_scalar(GM_D)
    der = sm2_ciphertext_from_raw(bytes.fromhex(GM_C1 + GM_C3 + GM_C2))
    assert der == GM_CIPHERTEXT_DER
    assert sm2_decrypt(private_pem, der) == GM_ENCRYPT_MESSAGE


# --- SM2: keys --------------------------------------------------------------------------------


def test_sm2_generated_keys_have_the_openssl_shape(backend: str) -> None:
    private_pem, public_pem = sm2_generate_key()
    assert private_pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert private_pem.endswith(b"-----END PRIVATE KEY-----\n")
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert public_pem.endswith(b"-----END PUBLIC KEY-----\n")
    assert sm2_public_from_private(private_pem) == public_pem
    x, y = sm2_public_point(public_pem)
    assert encoding.is_on_curve(x, y)
    assert sm2_generate_key()[0] != private_pem


@pytest.mark.parametrize("d", [0, -1, encoding.N - 1, encoding.N, 2**256])
def test_sm2_private_scalar_out_of_range(d: int) -> None:
    with pytest.raises(CryptoError):
        sm2_private_pem_from_scalar(d)


def test_sm2_private_scalar_range_limits(backend: str) -> None:
    for d in (1, encoding.N - 2):
        private_pem = sm2_private_pem_from_scalar(d)
        public_pem = sm2_public_from_private(private_pem)
        assert sm2_verify(public_pem, b"edge", sm2_sign(private_pem, b"edge"))


def test_sm2_point_not_on_curve() -> None:
    with pytest.raises(CryptoError):
        sm2_public_pem_from_point(GM_X, GM_Y + 1)
    with pytest.raises(CryptoError):
        sm2_public_pem_from_point(encoding.P + GM_X, GM_Y)


def test_sm2_private_key_with_mismatching_public_point(backend: str) -> None:
    other = encoding.decode_public_key(encoding.pem_decode(sm2_generate_key()[1])[1])
    forged = encoding.pem_encode("PRIVATE KEY", encoding.encode_private_key(GM_D, other))
    with pytest.raises(CryptoError):
        sm2_sign(forged, b"data")


@pytest.mark.parametrize(
    "pem",
    [
        b"",
        b"not a key",
        b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        b"-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n",
        b"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ==\n",
        b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
    ],
)
def test_sm2_malformed_public_key_raises(backend: str, pem: bytes) -> None:
    with pytest.raises(CryptoError):
        sm2_verify(pem, b"data", b"\x30\x00")
    with pytest.raises(CryptoError):
        sm2_encrypt(pem, b"data")


def test_sm2_private_key_is_not_a_public_key(backend: str, keypair: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = keypair
    with pytest.raises(CryptoError):
        sm2_verify(private_pem, b"data", sm2_sign(private_pem, b"data"))
    with pytest.raises(CryptoError):
        sm2_sign(public_pem, b"data")


def test_sm2_off_curve_public_key_in_pem_raises(backend: str) -> None:
    point = encoding.point_to_bytes((GM_X, GM_Y))
    bad_point = point[:-1] + bytes([point[-1] ^ 1])
    good_der = encoding.encode_public_key((GM_X, GM_Y))
    bad_pem = encoding.pem_encode("PUBLIC KEY", good_der.replace(point, bad_point))
    with pytest.raises(CryptoError):
        sm2_verify(bad_pem, b"data", encoding.encode_signature(1, 1))


# --- SM2: signatures --------------------------------------------------------------------------


def test_sm2_sign_verify_round_trip(backend: str, keypair: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = keypair
    for data in (b"", b"a", "申请材料".encode(), os.urandom(100_000)):
        signature = sm2_sign(private_pem, data)
        assert sm2_verify(public_pem, data, signature)
        assert sm2_verify(public_pem, bytearray(data), bytearray(signature))
    # Random nonces: two signatures of the same data differ and both verify.
    first, second = sm2_sign(private_pem, b"same"), sm2_sign(private_pem, b"same")
    assert first != second
    assert sm2_verify(public_pem, b"same", first)
    assert sm2_verify(public_pem, b"same", second)


def test_sm2_uid_matters(backend: str, keypair: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = keypair
    signature = sm2_sign(private_pem, b"data")
    assert sm2_verify(public_pem, b"data", signature, uid=DEFAULT_SM2_UID)
    assert not sm2_verify(public_pem, b"data", signature, uid=b"1234567812345679")
    assert not sm2_verify(public_pem, b"data", signature, uid=b"")
    for uid in (b"", b"ALICE123@YAHOO.COM", b"x" * encoding.MAX_UID_SIZE):
        custom = sm2_sign(private_pem, b"data", uid=uid)
        assert sm2_verify(public_pem, b"data", custom, uid=uid)
        assert not sm2_verify(public_pem, b"data", custom)


def test_sm2_uid_too_long(backend: str, keypair: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = keypair
    too_long = b"x" * (encoding.MAX_UID_SIZE + 1)
    with pytest.raises(CryptoError):
        sm2_sign(private_pem, b"data", uid=too_long)
    with pytest.raises(CryptoError):
        sm2_verify(public_pem, b"data", sm2_sign(private_pem, b"data"), uid=too_long)


def test_sm2_tampering_fails_verification(backend: str, keypair: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = keypair
    data = b"approve case 2024-000123"
    signature = sm2_sign(private_pem, data)
    for index in (0, 5, len(data) - 1):
        assert not sm2_verify(public_pem, flip_bit(data, index, 3), signature)
    for index in range(0, len(signature), 7):
        assert not sm2_verify(public_pem, data, flip_bit(signature, index, index % 8))
    assert not sm2_verify(public_pem, data, signature[:-1])
    assert not sm2_verify(public_pem, data, signature + b"\x00")
    other_public = sm2_generate_key()[1]
    assert not sm2_verify(other_public, data, signature)


GARBAGE_SIGNATURES = {
    "empty": b"",
    "one byte": b"\x00",
    "empty sequence": b"\x30\x00",
    "text": b"garbage signature bytes",
    # Fixed pseudo-random bytes: test ids must be the same in every pytest-xdist worker.
    "random 72 bytes": sm3(b"1") + sm3(b"2") + sm3(b"3")[:8],
    "raw r||s zeros": bytes(64),
    "raw r||s": bytes.fromhex(f"{GM_R:064x}{GM_S:064x}"),
    "r = 0": b"\x30\x06\x02\x01\x00\x02\x01\x01",
    "s negative": b"\x30\x06\x02\x01\x01\x02\x01\xff",
    "s = n": encoding.encode_signature(GM_R, encoding.N),
    "r > n": encoding.encode_signature(encoding.N + GM_R, GM_S),
    # The published (r, s), in encodings that are BER but not DER:
    "long-form length": b"\x30\x81\x46" + encoding.encode_signature(GM_R, GM_S)[2:],
    "padded r": b"\x30\x47\x02\x22\x00" + encoding.encode_signature(GM_R, GM_S)[4:],
    "trailing byte": encoding.encode_signature(GM_R, GM_S) + b"\x00",
}


@pytest.mark.parametrize("signature", GARBAGE_SIGNATURES.values(), ids=GARBAGE_SIGNATURES.keys())
def test_sm2_garbage_signatures_are_false(backend: str, signature: bytes) -> None:
    public_pem = sm2_public_pem_from_point(GM_X, GM_Y)
    assert sm2_verify(public_pem, GM_SIGN_MESSAGE, signature, uid=GM_UID) is False


def test_sm2_non_bytes_signature_is_false(backend: str) -> None:
    public_pem = sm2_public_pem_from_point(GM_X, GM_Y)
    for signature in (None, "3044", 12):
        assert sm2_verify(public_pem, b"data", signature) is False  # type: ignore[arg-type]


def test_sm2_raw_signature_conversion() -> None:
    der = encoding.encode_signature(GM_R, GM_S)
    raw = sm2_signature_to_raw(der)
    assert len(raw) == 64
    assert sm2_signature_from_raw(raw) == der
    small = encoding.encode_signature(1, 2)
    assert sm2_signature_from_raw(sm2_signature_to_raw(small)) == small
    with pytest.raises(CryptoError):
        sm2_signature_from_raw(raw[:-1])
    with pytest.raises(CryptoError):
        sm2_signature_to_raw(b"garbage")


# --- SM2: encryption --------------------------------------------------------------------------


def test_sm2_encrypt_decrypt_round_trip(backend: str, keypair: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = keypair
    for plaintext in (b"x", b"SM4 data key 16B", "身份证号码".encode(), os.urandom(5000)):
        ciphertext = sm2_encrypt(public_pem, plaintext)
        assert sm2_decrypt(private_pem, ciphertext) == plaintext
        _, c3, c2 = encoding.decode_ciphertext(ciphertext)
        assert len(c3) == 32
        assert len(c2) == len(plaintext)
        assert sm2_ciphertext_from_raw(sm2_ciphertext_to_raw(ciphertext)) == ciphertext
    assert sm2_encrypt(public_pem, b"same") != sm2_encrypt(public_pem, b"same")


def test_sm2_encrypt_empty_plaintext_raises(backend: str, keypair: tuple[bytes, bytes]) -> None:
    with pytest.raises(CryptoError):
        sm2_encrypt(keypair[1], b"")


def test_sm2_decrypt_failures_raise(backend: str, keypair: tuple[bytes, bytes]) -> None:
    private_pem, public_pem = keypair
    ciphertext = sm2_encrypt(public_pem, b"the data key")
    other_private = sm2_generate_key()[0]
    with pytest.raises(CryptoError):
        sm2_decrypt(other_private, ciphertext)
    for index in range(len(ciphertext) - 1, 0, -13):  # C2, C3, C1 and the DER headers
        with pytest.raises(CryptoError):
            sm2_decrypt(private_pem, flip_bit(ciphertext, index, index % 8))
    for bad in (b"", b"\x30\x00", ciphertext[:-1], ciphertext + b"\x00", os.urandom(120)):
        with pytest.raises(CryptoError):
            sm2_decrypt(private_pem, bad)


def test_sm2_raw_ciphertext_conversion_rejects_garbage() -> None:
    with pytest.raises(CryptoError):
        sm2_ciphertext_from_raw(bytes.fromhex(GM_C1[2:] + GM_C3 + GM_C2))  # no 04 prefix
    with pytest.raises(CryptoError):
        sm2_ciphertext_from_raw(bytes.fromhex(GM_C1 + GM_C3))  # no C2
    with pytest.raises(CryptoError):
        sm2_ciphertext_from_raw(flip_bit(bytes.fromhex(GM_C1 + GM_C3 + GM_C2), 40))


# --- SM2: the two backends interoperate -------------------------------------------------------


@pytest.mark.parametrize("producer", BACKENDS)
@pytest.mark.parametrize("consumer", BACKENDS)
def test_sm2_backends_interoperate(
    monkeypatch: pytest.MonkeyPatch, producer: str, consumer: str
) -> None:
    use_backend(monkeypatch, producer)
    private_pem, public_pem = sm2_generate_key()
    signatures = {uid: sm2_sign(private_pem, b"cross", uid=uid) for uid in (DEFAULT_SM2_UID, b"")}
    ciphertext = sm2_encrypt(public_pem, b"cross-backend secret")
    use_backend(monkeypatch, consumer)
    assert sm2_public_from_private(private_pem) == public_pem
    for uid, signature in signatures.items():
        assert sm2_verify(public_pem, b"cross", signature, uid=uid)
    assert not sm2_verify(public_pem, b"cross", signatures[b""])
    assert sm2_decrypt(private_pem, ciphertext) == b"cross-backend secret"


# --- SM2: the openssl command line ------------------------------------------------------------


@pytest.fixture
def cli_keypair(tmp_path: Path) -> tuple[Path, Path]:
    private_path, public_path = tmp_path / "cli_key.pem", tmp_path / "cli_pub.pem"
    assert run_openssl("genpkey", "-algorithm", "SM2", "-out", private_path).returncode == 0
    result = run_openssl("pkey", "-in", private_path, "-pubout", "-out", public_path)
    assert result.returncode == 0, result.stderr
    return private_path, public_path


@needs_cli
def test_cli_keys_load_here(backend: str, cli_keypair: tuple[Path, Path]) -> None:
    private_path, public_path = cli_keypair
    assert sm2_public_from_private(private_path.read_bytes()) == public_path.read_bytes()


@needs_cli
def test_our_keys_load_in_cli(backend: str, tmp_path: Path) -> None:
    private_pem, public_pem = sm2_generate_key()
    (tmp_path / "key.pem").write_bytes(private_pem)
    (tmp_path / "pub.pem").write_bytes(public_pem)
    # OpenSSL re-encodes what it reads: getting our bytes back means the same canonical form.
    result = run_openssl("pkey", "-in", tmp_path / "key.pem")
    assert result.returncode == 0, result.stderr
    assert result.stdout == private_pem
    result = run_openssl("pkey", "-in", tmp_path / "key.pem", "-pubout")
    assert result.stdout == public_pem
    result = run_openssl("pkey", "-pubin", "-in", tmp_path / "pub.pem")
    assert result.stdout == public_pem
    text = run_openssl("pkey", "-in", tmp_path / "key.pem", "-noout", "-text").stdout
    assert b"ASN1 OID: SM2" in text


@needs_cli
def test_sec1_ec_private_key_loads(backend: str, cli_keypair: tuple[Path, Path]) -> None:
    # OpenSSL 3.0 cannot write SM2 keys as SEC 1 "EC PRIVATE KEY" (OpenSSL 1.1 and GmSSL do):
    # build one by hand from a CLI key, check that the CLI reads it, then that we do.
    private_path, public_path = cli_keypair
    key = encoding.decode_private_key(encoding.pem_decode(private_path.read_bytes())[1])
    assert key.point is not None
    sec1 = encoding.der_tlv(
        0x30,
        encoding.der_integer(1)
        + encoding.der_tlv(0x04, key.d.to_bytes(32, "big"))
        + encoding.der_tlv(0xA0, encoding.der_tlv(0x06, bytes.fromhex("2a811ccf5501822d")))
        + encoding.der_tlv(
            0xA1, encoding.der_tlv(0x03, b"\x00" + encoding.point_to_bytes(key.point))
        ),
    )
    sec1_pem = encoding.pem_encode("EC PRIVATE KEY", sec1)
    result = run_openssl("pkey", "-pubout", stdin=sec1_pem)
    assert result.returncode == 0, result.stderr
    assert result.stdout == public_path.read_bytes()
    assert sm2_public_from_private(sec1_pem) == public_path.read_bytes()
    signature = sm2_sign(sec1_pem, b"data")
    assert sm2_verify(public_path.read_bytes(), b"data", signature)


@needs_cli
def test_cli_verifies_our_signature(backend: str, tmp_path: Path) -> None:
    private_pem, public_pem = sm2_generate_key()
    data = "电子证照 licence 0001".encode() * 50
    (tmp_path / "pub.pem").write_bytes(public_pem)
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "sig").write_bytes(sm2_sign(private_pem, data))
    verify = ["dgst", "-sm3", "-verify", tmp_path / "pub.pem", "-signature", tmp_path / "sig"]
    result = run_openssl(*verify, "-sigopt", "distid:1234567812345678", tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert b"Verified OK" in result.stdout
    result = run_openssl(*verify, "-sigopt", "distid:1234567812345679", tmp_path / "data")
    assert result.returncode != 0
    assert b"Verification failure" in result.stdout + result.stderr


@needs_cli
def test_we_verify_cli_signature(backend: str, cli_keypair: tuple[Path, Path]) -> None:
    private_path, public_path = cli_keypair
    data_path = private_path.with_name("data")
    data = os.urandom(3000)
    data_path.write_bytes(data)
    result = run_openssl(
        "dgst", "-sm3", "-sign", private_path, "-sigopt", "distid:1234567812345678", data_path
    )
    assert result.returncode == 0, result.stderr
    signature = result.stdout
    public_pem = public_path.read_bytes()
    assert sm2_verify(public_pem, data, signature)
    assert not sm2_verify(public_pem, data, signature, uid=b"ALICE123@YAHOO.COM")
    assert not sm2_verify(public_pem, data[1:], signature)


@needs_cli
def test_cli_without_distid_uses_an_empty_id(backend: str, cli_keypair: tuple[Path, Path]) -> None:
    # The interop pitfall behind the explicit default: OpenSSL 3.0 hashes an empty id into Z
    # when no distid is given, so its signatures then fail under 1234567812345678.
    private_path, public_path = cli_keypair
    data_path = private_path.with_name("data")
    data_path.write_bytes(b"no distid")
    result = run_openssl("dgst", "-sm3", "-sign", private_path, data_path)
    assert result.returncode == 0, result.stderr
    public_pem = public_path.read_bytes()
    assert sm2_verify(public_pem, b"no distid", result.stdout, uid=b"")
    assert not sm2_verify(public_pem, b"no distid", result.stdout)


@needs_cli
def test_cli_decrypts_our_ciphertext(backend: str, cli_keypair: tuple[Path, Path]) -> None:
    private_path, public_path = cli_keypair
    plaintext = "社保卡号 6217000010012345678".encode()
    ciphertext_path = private_path.with_name("ct.der")
    ciphertext_path.write_bytes(sm2_encrypt(public_path.read_bytes(), plaintext))
    result = run_openssl("pkeyutl", "-decrypt", "-inkey", private_path, "-in", ciphertext_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == plaintext


@needs_cli
def test_we_decrypt_cli_ciphertext(backend: str, cli_keypair: tuple[Path, Path]) -> None:
    private_path, public_path = cli_keypair
    plaintext = os.urandom(200)
    result = run_openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", public_path, stdin=plaintext)
    assert result.returncode == 0, result.stderr
    assert sm2_decrypt(private_path.read_bytes(), result.stdout) == plaintext


@needs_cli
def test_non_sm2_key_is_refused(backend: str, tmp_path: Path) -> None:
    key_path = tmp_path / "p256.pem"
    result = run_openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key_path
    )
    assert result.returncode == 0, result.stderr
    public_pem = run_openssl("pkey", "-in", key_path, "-pubout").stdout
    with pytest.raises(CryptoError):
        sm2_sign(key_path.read_bytes(), b"data")
    with pytest.raises(CryptoError):
        sm2_verify(public_pem, b"data", b"\x30\x00")


# --- backend selection, threads, memory -------------------------------------------------------


def test_backend_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZWFW_CRYPTO_BACKEND", "python")
    assert sm2_backend() == "python"
    monkeypatch.setenv("ZWFW_CRYPTO_BACKEND", "auto")
    assert sm2_backend() == ("openssl" if _openssl_backend_usable() else "python")
    monkeypatch.delenv("ZWFW_CRYPTO_BACKEND")
    assert sm2_backend() == ("openssl" if _openssl_backend_usable() else "python")
    monkeypatch.setenv("ZWFW_CRYPTO_BACKEND", "gmssl")
    with pytest.raises(CryptoError):
        sm2_backend()


def test_auto_falls_back_to_python_without_libcrypto_sm2(
    monkeypatch: pytest.MonkeyPatch, keypair: tuple[bytes, bytes]
) -> None:
    # As on a distribution whose OpenSSL is built without SM2: the load failed once, for good.
    monkeypatch.setattr(sm2_module, "_backends", {})
    monkeypatch.setattr(sm2_module, "_openssl_failure", "simulated: no SM2 in libcrypto")
    monkeypatch.setenv("ZWFW_CRYPTO_BACKEND", "auto")
    assert sm2_backend() == "python"
    private_pem, public_pem = keypair
    assert sm2_verify(public_pem, b"fallback", sm2_sign(private_pem, b"fallback"))
    monkeypatch.setenv("ZWFW_CRYPTO_BACKEND", "openssl")
    with pytest.raises(CryptoError, match="simulated"):
        sm2_sign(private_pem, b"fallback")


@needs_cli
def test_openssl_backend_loads_where_the_cli_has_sm2() -> None:
    # The backend fixture skips "openssl" when the binding does not load; this test makes sure
    # that a broken binding cannot hide behind that skip (and behind auto's silent fallback).
    version = run_openssl("version").stdout
    algorithms = run_openssl("list", "-public-key-algorithms").stdout
    if not version.startswith(b"OpenSSL 3.") or b"SM2" not in algorithms:
        pytest.skip(f"this openssl has no SM2: {version!r}")
    assert _openssl_backend_usable(), sm2_module._openssl_failure


def test_public_api_is_exported() -> None:
    for name in sm2_module.__all__:
        if name != "BACKEND_ENV_VAR":
            assert name in crypto.__all__
            assert getattr(crypto, name) is getattr(sm2_module, name)


@pytest.fixture
def tiny_cache() -> Iterator[None]:
    size = sm2_module._cache.size
    sm2_module._cache.size = 2
    sm2_module._cache.clear()
    yield
    sm2_module._cache.size = size
    sm2_module._cache.clear()


def test_sm2_threads_share_keys_while_the_cache_evicts(
    monkeypatch: pytest.MonkeyPatch, tiny_cache: None
) -> None:
    use_backend(monkeypatch, "openssl")
    keys = [sm2_generate_key() for _ in range(5)]
    failures: list[str] = []

    def work(worker: int) -> None:
        for step in range(60):
            private_pem, public_pem = keys[(worker + step) % len(keys)]
            data = f"{worker}:{step}".encode()
            signature = sm2_sign(private_pem, data)
            if not sm2_verify(public_pem, data, signature):
                failures.append(f"verify {worker} {step}")
            if sm2_verify(public_pem, data + b"!", signature):
                failures.append(f"forgery {worker} {step}")
            if sm2_decrypt(private_pem, sm2_encrypt(public_pem, data)) != data:
                failures.append(f"decrypt {worker} {step}")

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_openssl_backend_does_not_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    use_backend(monkeypatch, "openssl")
    private_pem, public_pem = sm2_generate_key()
    data = b"x" * 1000

    def round_of_work() -> None:
        signature = sm2_sign(private_pem, data)
        assert sm2_verify(public_pem, data, signature)
        assert not sm2_verify(public_pem, data[1:], signature)
        assert sm2_decrypt(private_pem, sm2_encrypt(public_pem, data)) == data
        with pytest.raises(CryptoError):
            sm2_decrypt(private_pem, flip_bit(sm2_encrypt(public_pem, data), 200))

    for _ in range(300):  # warm up allocator pools and caches
        round_of_work()
    before = _rss_kib()
    for _ in range(2000):
        round_of_work()
    # A leaked context per call would be several kilobytes each: megabytes over 2,000 rounds.
    assert _rss_kib() - before < 1024
