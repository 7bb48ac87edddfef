"""Personal data at rest (SM4-GCM fields, blind indexes) and masking."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from zwfw.core import pii
from zwfw.core.crypto import CryptoError, sm3_hmac, sm4_gcm_decrypt
from zwfw.core.masking import mask_bank_card, mask_id_number, mask_name, mask_phone, mask_text
from zwfw.notifications.models import OutboxMessage


def test_encrypt_round_trip_with_random_nonce() -> None:
    first = pii.encrypt_text("13812345678", "ctx")
    second = pii.encrypt_text("13812345678", "ctx")
    assert first.startswith("v1:")
    assert second.startswith("v1:")
    assert first != second  # a fresh nonce each time: equal values are not visible at rest
    assert pii.decrypt_text(first, "ctx") == "13812345678"


def test_ciphertext_is_sm4_gcm_under_the_derived_key(settings) -> None:
    stored = pii.encrypt_text("110105194912310029", "people.id_number")
    blob = base64.b64decode(stored[3:])
    key = sm3_hmac(bytes.fromhex(settings.PII_KEY), b"zwfw/pii/encryption/v1")[:16]
    assert sm4_gcm_decrypt(key, blob, aad=b"people.id_number") == b"110105194912310029"


def test_value_moved_to_another_column_does_not_decrypt() -> None:
    stored = pii.encrypt_text("13812345678", "app.model.phone")
    with pytest.raises(CryptoError, match="authentication failed"):
        pii.decrypt_text(stored, "app.model.bank_card")


def test_blind_index_is_keyed_normalised_and_purpose_bound(settings) -> None:
    a = pii.blind_index("11010519491231002x", "id_number")
    assert a == pii.blind_index(" 11010519491231002X ", "id_number")
    assert a != pii.blind_index("11010519491231002X", "phone")
    settings.PII_KEY = "ab" * 32
    assert a != pii.blind_index("11010519491231002X", "id_number")


def test_bad_master_key_is_a_configuration_error(settings) -> None:
    settings.PII_KEY = "not-hex"
    with pytest.raises(ImproperlyConfigured, match="hexadecimal"):
        pii.encrypt_text("x")
    settings.PII_KEY = "00" * 16
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        pii.encrypt_text("x")


@pytest.mark.django_db
def test_model_field_encrypts_in_the_database_and_finds_by_index() -> None:
    message = OutboxMessage.objects.create(
        channel="sms",
        recipient="13812345678",
        template_code="t",
        body="您的验证码为123456",
        next_attempt_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recipient, body, recipient_index FROM notifications_outboxmessage "
            "WHERE id = %s",
            [message.pk.hex if connection.vendor == "sqlite" else message.pk],
        )
        raw_recipient, raw_body, raw_index = cursor.fetchone()
    assert "13812345678" not in raw_recipient
    assert "123456" not in raw_body
    assert raw_index == pii.blind_index("13812345678", "recipient")
    found = OutboxMessage.objects.get(
        recipient_index=OutboxMessage._meta.get_field("recipient")
        .model._meta.get_field("recipient_index")
        .index_of("138 1234 5678")
    )
    assert found.recipient == "13812345678"
    assert found.body == "您的验证码为123456"


@pytest.mark.django_db
def test_filtering_on_the_encrypted_column_is_refused() -> None:
    with pytest.raises(TypeError, match="blind index"):
        OutboxMessage.objects.filter(recipient="13812345678").count()


def test_masking_formats() -> None:
    assert mask_id_number("110105194912310029") == "110***********0029"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_bank_card("6222 0212 3456 7890 123") == "6222***********0123"
    assert mask_name("李娜") == "李*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_id_number("") == ""
    assert mask_phone(None) == ""
    assert mask_phone("123") == "***"


def test_mask_text_hides_numbers_in_free_text() -> None:
    line = "申请人 110105194912310029 手机13812345678 卡号6222021234567890123 办件2026"
    assert mask_text(line) == (
        "申请人 110***********0029 手机138****5678 卡号6222***********0123 办件2026"
    )
