"""Masking of personal data for pages, logs and exports.

Formats: resident ID ``110***********1234`` (first 3 and last 4 kept), mobile ``138****5678``,
bank card ``6222 **** **** 1234`` style (first 4 and last 4 kept), names ``李*`` / ``欧阳**``.
"""

from __future__ import annotations

import re


def _mask(value: str, keep_head: int, keep_tail: int) -> str:
    if len(value) <= keep_head + keep_tail:
        return "*" * len(value)
    return value[:keep_head] + "*" * (len(value) - keep_head - keep_tail) + value[-keep_tail:]


def mask_id_number(value: str | None) -> str:
    """``110101199003074514`` → ``110***********4514``."""
    if not value:
        return ""
    return _mask(value, 3, 4)


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678``; other lengths keep 3 and 4."""
    if not value:
        return ""
    return _mask(value, 3, 4)


def mask_bank_card(value: str | None) -> str:
    if not value:
        return ""
    digits = re.sub(r"\s", "", value)
    return _mask(digits, 4, 4)


def mask_name(value: str | None) -> str:
    """Keep the family name: ``李娜`` → ``李*``; ``欧阳娜娜`` → ``欧***`` (one character kept)."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_CARD_IN_TEXT = re.compile(r"(?<!\d)(\d{4})(\d{8,11})(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask ID numbers, mobile numbers and card numbers found anywhere in free text (logs)."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)
    text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)
    return _CARD_IN_TEXT.sub(lambda m: mask_bank_card(m.group(0)), text)
