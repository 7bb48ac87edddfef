"""The RSA key that signs ID tokens.

ID tokens are signed with RS256, not SM2: relying parties verify them with stock OIDC libraries,
and no JOSE algorithm identifier exists for SM2 (see docs/decisions/0011-oidc-provider.md).
Production passes the key in ``ZWFW_OIDC_RSA_KEY``; development and tests create one key once
under the var directory, so that every process of a node signs with the same key.

This module is imported by the settings: it must not touch Django models or settings.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

MIN_RSA_BITS = 2048
DEV_KEY_NAME = "oidc-rsa.pem"


class SigningKeyError(ValueError):
    """The configured signing key is missing, unreadable or not a strong enough RSA key."""


def _checked(pem: str, origin: str) -> str:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise SigningKeyError(f"{origin}: not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningKeyError(f"{origin}: ID tokens are signed with RS256, an RSA key is needed")
    if key.key_size < MIN_RSA_BITS:
        raise SigningKeyError(f"{origin}: RSA key of {key.key_size} bits, need {MIN_RSA_BITS}+")
    return pem


def load_signing_key(value: str) -> str:
    """The PEM text of ``value``: PEM itself, or the path of a PEM file (mounted secrets)."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return _checked(text + "\n", "ZWFW_OIDC_RSA_KEY")
    try:
        pem = Path(text).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise SigningKeyError(
            f"ZWFW_OIDC_RSA_KEY: cannot read key file {text!r}: {error}"
        ) from None
    return _checked(pem, text)


def new_rsa_pem(bits: int = 3072) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def dev_signing_key(var_dir: Path) -> str:
    """The development key in ``var_dir``, created on first use.

    Processes that start together (web server, worker) must agree on one key, so the new key
    is written to a temporary file and hard-linked into place: the first link wins and every
    process reads the winner's key.
    """
    path = var_dir / DEV_KEY_NAME
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=var_dir, prefix=".oidc-", suffix=".pem")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(new_rsa_pem())
            os.chmod(tmp, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return _checked(path.read_text(encoding="ascii"), str(path))
