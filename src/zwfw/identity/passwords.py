"""Password rules, with Chinese messages and stable codes (``identity.password_*``).

The rules: at least 10 characters; not only digits; at least two kinds of character
(letters, digits, symbols); not one character repeated; not containing the account's login
handle, ID number, phone number or birth date; not in the list of 20,000 common (breached)
passwords shipped with Django. The classes follow Django's validator protocol, so that the
admin and ``changepassword`` apply the same rules (settings ``AUTH_PASSWORD_VALIDATORS``).
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError as DjangoValidationError

from zwfw.core.errors import ValidationError

MIN_LENGTH = 10
MAX_LENGTH = 128  # argon2 would take longer input, but nobody types more; bounds request cost


def _fail(code: str, message: str, message_en: str) -> DjangoValidationError:
    return DjangoValidationError(message, code=code, params={"en": message_en})


class LengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < MIN_LENGTH:
            raise _fail(
                "identity.password_too_short",
                f"密码至少需要{MIN_LENGTH}个字符。",
                f"The password needs at least {MIN_LENGTH} characters.",
            )
        if len(password) > MAX_LENGTH:
            raise _fail(
                "identity.password_too_long",
                f"密码不能超过{MAX_LENGTH}个字符。",
                f"The password may have at most {MAX_LENGTH} characters.",
            )

    def get_help_text(self) -> str:
        return f"密码至少需要{MIN_LENGTH}个字符。"


class CharacterKindsValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if password.isdigit():
            raise _fail(
                "identity.password_all_digits",
                "密码不能全部是数字。",
                "The password cannot be only digits.",
            )
        if len(set(password)) == 1:
            raise _fail(
                "identity.password_repeated",
                "密码不能由同一个字符重复组成。",
                "The password cannot be one character repeated.",
            )
        kinds = (
            any(c.isalpha() for c in password)
            + any(c.isdigit() for c in password)
            + any(not c.isalnum() for c in password)
        )
        if kinds < 2:
            raise _fail(
                "identity.password_kinds",
                "密码应至少包含字母、数字、符号中的两类。",
                "Use at least two of: letters, digits, symbols.",
            )

    def get_help_text(self) -> str:
        return "密码不能全部是数字，应至少包含字母、数字、符号中的两类。"


def personal_values(user: Any) -> list[str]:
    """The account's own identifiers a password must not contain."""
    if user is None:
        return []
    values = [getattr(user, "username", "") or ""]
    id_number = getattr(user, "id_number", "") or ""
    if id_number:
        values += [id_number, id_number[-6:], id_number[6:14]]  # whole, tail, birth date
    phone = getattr(user, "phone", "") or ""
    if phone:
        values.append(phone)
    return [v.lower() for v in values if len(v) >= 6]


class PersonalDataValidator:
    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower()
        if any(value in lowered for value in personal_values(user)):
            raise _fail(
                "identity.password_personal",
                "密码不能包含您的账户名、证件号码、手机号码或出生日期。",
                "The password cannot contain your account name, ID number, phone or birth date.",
            )

    def get_help_text(self) -> str:
        return "密码不能包含您的账户名、证件号码、手机号码或出生日期。"


@functools.cache
def _common() -> CommonPasswordValidator:
    return CommonPasswordValidator()  # reads its 20,000-entry list once


class CommonValidator:
    def validate(self, password: str, user: Any = None) -> None:
        try:
            _common().validate(password)
        except DjangoValidationError:
            raise _fail(
                "identity.password_common",
                "该密码过于常见（出现在已泄露的密码列表中），请换一个。",
                "This password is too common (it appears in breached-password lists).",
            ) from None

    def get_help_text(self) -> str:
        return "不能使用常见或已泄露的密码。"


VALIDATORS = (
    LengthValidator(),
    CharacterKindsValidator(),
    PersonalDataValidator(),
    CommonValidator(),
)


def check_password_rules(password: str, user: Any = None, field: str = "password") -> None:
    """Apply every rule; raises ``ValidationError`` (``identity.password_*``) on the first break.

    ``user`` may be an unsaved ``User`` carrying the ID number and phone being registered.
    """
    if not isinstance(password, str) or not password:
        raise ValidationError(
            "identity.password_empty", "请设置密码。", "A password is required.", field=field
        )
    for validator in VALIDATORS:
        try:
            validator.validate(password, user)
        except DjangoValidationError as error:
            params = error.params or {}
            raise ValidationError(
                str(error.code), str(error.message), str(params.get("en", "")), field=field
            ) from None
