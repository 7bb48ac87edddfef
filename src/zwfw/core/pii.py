"""Personal data at rest: SM4-GCM encrypted model fields and keyed SM3 blind indexes.

``EncryptedTextField`` stores ``v1:`` + base64(nonce || ciphertext || tag). The key is derived
from ``ZWFW_PII_KEY``; the column name is bound into the ciphertext as associated data, so a
value copied into another column does not decrypt. Encrypted values cannot be searched, so a
model that must find a person by ID number keeps a ``BlindIndexField`` beside it: HMAC-SM3 of
the normalised value under a second derived key. Equal inputs give equal indexes; the index
reveals nothing without the key.
"""

from __future__ import annotations

import base64
import functools
import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from zwfw.core.crypto import CryptoError, sm3_hmac, sm4_gcm_decrypt, sm4_gcm_encrypt

PREFIX = "v1:"


@functools.cache
def _keys(master_hex: str) -> tuple[bytes, bytes]:
    try:
        master = bytes.fromhex(master_hex)
    except ValueError:
        raise ImproperlyConfigured("ZWFW_PII_KEY must be hexadecimal") from None
    if len(master) != 32:
        raise ImproperlyConfigured("ZWFW_PII_KEY must be 32 bytes (64 hex characters)")
    encryption = sm3_hmac(master, b"zwfw/pii/encryption/v1")[:16]
    index = sm3_hmac(master, b"zwfw/pii/blind-index/v1")
    return encryption, index


def encryption_key() -> bytes:
    return _keys(settings.PII_KEY)[0]


def normalise(value: str) -> str:
    """Normal form for indexing: trimmed, upper-case (ID check letter x/X), no inner spaces."""
    return "".join(value.split()).upper()


def blind_index(value: str, purpose: str = "") -> str:
    """Keyed SM3 index (hex) of ``value`` for exact-match lookup of encrypted data."""
    key = _keys(settings.PII_KEY)[1]
    return sm3_hmac(key, f"{purpose}\x00{normalise(value)}".encode()).hex()


def encrypt_text(value: str, context: str = "") -> str:
    blob = sm4_gcm_encrypt(encryption_key(), value.encode(), aad=context.encode())
    return PREFIX + base64.b64encode(blob).decode("ascii")


def decrypt_text(stored: str, context: str = "") -> str:
    if not stored.startswith(PREFIX):
        raise CryptoError("value is not an encrypted zwfw field")
    blob = base64.b64decode(stored[len(PREFIX) :])
    return sm4_gcm_decrypt(encryption_key(), blob, aad=context.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text field whose value is SM4-GCM encrypted in the database.

    Only exact lookups through a companion :class:`BlindIndexField` are possible; filtering on
    this field itself is refused, because it would silently match nothing.
    """

    def __init__(self, *args: Any, aad: str | None = None, **kwargs: Any) -> None:
        self.aad = aad
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.aad is not None:
            kwargs["aad"] = self.aad
        return name, path, args, kwargs

    def _context(self) -> str:
        if self.aad is not None:
            return self.aad
        return f"{self.model._meta.label_lower}.{self.name}"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value), self._context())

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt_text(value, self._context())

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull"}:
            raise TypeError(f"{self.name} is encrypted: look it up through its blind index instead")
        return super().get_lookup(lookup_name)


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (object or list) stored SM4-GCM encrypted: personal data with structure.

    Stored as the encrypted canonical JSON text (sorted keys, UTF-8); read back as Python
    objects. Like :class:`EncryptedTextField` it cannot be filtered on.
    """

    # for django-stubs' plugin: values set and read are JSON values, not text
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return encrypt_text(text, self._context())

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return json.loads(decrypt_text(value, self._context()))

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, sort_keys=True)


class BlindIndexField(models.CharField):
    """HMAC-SM3 index of another field, kept up to date on save."""

    def __init__(self, *args: Any, source: str, purpose: str = "", **kwargs: Any) -> None:
        self.source = source
        self.purpose = purpose
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.purpose:
            kwargs["purpose"] = self.purpose
        for key in ("max_length", "editable", "db_index", "blank"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = getattr(model_instance, self.source)
        index = blind_index(value, self.purpose or self.source) if value else ""
        setattr(model_instance, self.attname, index)
        return index

    def index_of(self, value: str) -> str:
        """The index a lookup for ``value`` must use."""
        return blind_index(value, self.purpose or self.source)
