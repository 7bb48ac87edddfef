"""The ID-token signing key and the client-secret hasher."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

from zwfw.sso import keys
from zwfw.sso.hashers import ALGORITHM, ClientSecretHasher


def _pem(key: object) -> str:
    return key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_key_from_pem_text_or_file(tmp_path: Path) -> None:
    pem = keys.new_rsa_pem(2048)
    assert keys.load_signing_key(pem) == pem.strip() + "\n"
    path = tmp_path / "oidc.pem"
    path.write_text(pem)
    assert keys.load_signing_key(f"  {path}\n") == pem


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----", "not an unencrypted"),
        ("/nonexistent/oidc.pem", "cannot read key file"),
        (_pem(ec.generate_private_key(ec.SECP256R1())), "an RSA key is needed"),
        # A weak key on purpose: the loader must refuse it.
        (_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "need 2048"),  # noqa: S505
    ],
)
def test_unusable_keys_are_refused_with_a_reason(value: str, message: str) -> None:
    with pytest.raises(keys.SigningKeyError, match=message):
        keys.load_signing_key(value)


def test_development_key_is_created_once(tmp_path: Path) -> None:
    first = keys.dev_signing_key(tmp_path)
    second = keys.dev_signing_key(tmp_path)
    assert first == second
    key_file = tmp_path / keys.DEV_KEY_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [keys.DEV_KEY_NAME]  # no temporary left


def test_client_secret_hasher() -> None:
    secret = "s" * 128
    encoded = make_password(secret, hasher=ALGORITHM)
    assert encoded.startswith(ALGORITHM + "$")
    assert isinstance(identify_hasher(encoded), ClientSecretHasher)
    assert check_password(secret, encoded)
    assert not check_password(secret + "x", encoded)
    assert encoded != make_password(secret, hasher=ALGORITHM)  # salted
    hasher = ClientSecretHasher()
    assert not hasher.verify(secret, "other$salt$hash")
    assert set(hasher.safe_summary(encoded)) == {"algorithm", "salt", "hash"}


@pytest.mark.django_db
def test_passwords_never_use_the_client_secret_hasher() -> None:
    from zwfw.sso.tests import helpers

    user = helpers.person()
    assert not user.password.startswith(ALGORITHM)
