"""One-time codes: SMS verification codes and TOTP (RFC 6238) second factors.

SMS codes are 6 random digits, valid 5 minutes, at most 5 wrong tries, one use. Only a keyed
SM3 hash (salted per code) is stored; the code itself exists only in the outgoing message. A
new code for the same phone and purpose supersedes the older ones. Failed tries and use are
written in their own short transaction, so they count even when the caller rolls back.

TOTP: 30-second steps, 6 digits, one step of clock drift either way; a step once used cannot
be used again (replay), which :func:`totp_check` enforces with the device's last used step.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from zwfw.core import audit
from zwfw.core.errors import ValidationError
from zwfw.core.masking import mask_phone
from zwfw.core.pii import blind_index
from zwfw.core.validators import validate_mobile
from zwfw.identity import throttle
from zwfw.identity.models import OneTimeCode, TotpDevice, User

CODE_DIGITS = 6
CODE_LIFETIME = dt.timedelta(minutes=5)
CODE_MAX_ATTEMPTS = 5
TOTP_DRIFT_STEPS = 1


def phone_index(phone: str) -> str:
    """The user table's blind index of a (normalised) phone number."""
    return User._meta.get_field("phone_index").index_of(phone)


def _code_hash(purpose: str, salt: str, code: str) -> str:
    return blind_index(f"{salt}:{code}", f"identity.otp.{purpose}")


def _check_purpose(purpose: str) -> str:
    if purpose not in OneTimeCode.Purpose.values:
        raise ValidationError(
            "identity.code_purpose",
            "验证码用途无效。",
            "Unknown verification-code purpose.",
            field="purpose",
            details={"allowed": list(OneTimeCode.Purpose.values)},
        )
    return purpose


@dataclass(frozen=True)
class SentCode:
    phone_masked: str
    expires_at: dt.datetime
    resend_after: int  # seconds


def send_code(purpose: str, phone: str, ip: str, *, deliver: bool = True) -> SentCode:
    """Send a verification code by SMS (through the notifications outbox).

    Throttled: one code a minute and five an hour per phone, ten an hour per client address.
    ``deliver=False`` does everything but send (the code reaches nobody): requests for
    phones without an account are answered and throttled exactly like the others (no
    account enumeration). Raises
    ``ValidationError`` (``mobile.*``, ``identity.code_purpose``) and ``TooManyRequests``
    (``identity.sms_too_soon``, ``identity.sms_rate_limited``).
    """
    from zwfw.notifications.services import queue_message

    _check_purpose(purpose)
    number = validate_mobile(phone, field="phone")
    phone_key, ip_key = throttle.key_of(number), throttle.key_of(ip or "-")
    throttle.refuse(
        throttle.SMS_PHONE_RESEND,
        phone_key,
        "验证码已发送，请{seconds}秒后再重新获取。",
        "A code was just sent; wait before asking again.",
        "identity.sms_too_soon",
    )
    for rule, key in ((throttle.SMS_PHONE_HOUR, phone_key), (throttle.SMS_IP_HOUR, ip_key)):
        throttle.refuse(
            rule,
            key,
            "获取验证码过于频繁，请{minutes}分钟后再试。",
            "Too many code requests; try again later.",
            "identity.sms_rate_limited",
        )
    now = timezone.now()
    for rule, key in (
        (throttle.SMS_PHONE_RESEND, phone_key),
        (throttle.SMS_PHONE_HOUR, phone_key),
        (throttle.SMS_IP_HOUR, ip_key),
    ):
        throttle.hit(rule, key)
    expires = now + CODE_LIFETIME
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(8)
    index = phone_index(number)
    with transaction.atomic():
        OneTimeCode.objects.filter(
            phone_index=index, purpose=purpose, consumed_at__isnull=True, superseded=False
        ).update(superseded=True)
        # Stored even when not delivered, so that trying codes for a phone without an
        # account fails exactly as for one with an account.
        OneTimeCode.objects.create(
            purpose=purpose,
            phone_index=index,
            code_hash=_code_hash(purpose, salt, code),
            salt=salt,
            created_at=now,
            expires_at=expires,
        )
        if deliver:
            queue_message(
                channel="sms",
                recipient=number,
                template_code="identity.sms_code",
                context={"code": code, "minutes": int(CODE_LIFETIME.total_seconds() // 60)},
            )
        audit.record(
            "identity:sms_code:send",
            "identity.phone",
            "",
            after={"purpose": purpose, "phone": mask_phone(number)},
        )
    return SentCode(mask_phone(number), expires, int(throttle.SMS_PHONE_RESEND.window.seconds))


def _code_error(code: str, zh: str, en: str) -> ValidationError:
    return ValidationError(code, zh, en, field="code")


def consume_code(purpose: str, phone: str, code: str) -> None:
    """Check and use up the newest code sent to ``phone`` for ``purpose``.

    Commits on its own (a wrong try is counted even if the caller then fails). Raises
    ``ValidationError``: ``identity.code_missing`` (none was sent), ``identity.code_invalid``
    (wrong code), ``identity.code_expired``, ``identity.code_used`` (replayed), and
    ``identity.code_attempts`` (five wrong tries: ask for a new code).
    """
    _check_purpose(purpose)
    number = validate_mobile(phone, field="phone")
    given = (code or "").strip() if isinstance(code, str) else ""
    now = timezone.now()
    failure: ValidationError | None = None
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(phone_index=phone_index(number), purpose=purpose)
            .order_by("-created_at", "-id")
            .first()
        )
        if row is None:
            failure = _code_error(
                "identity.code_missing",
                "请先获取短信验证码。",
                "Ask for a verification code first.",
            )
        elif row.consumed_at is not None:
            failure = _code_error(
                "identity.code_used",
                "该验证码已使用，请重新获取。",
                "This code was already used; ask for a new one.",
            )
        elif row.expires_at <= now:
            failure = _code_error(
                "identity.code_expired",
                "验证码已过期，请重新获取。",
                "The code has expired; ask for a new one.",
            )
        elif row.attempts >= CODE_MAX_ATTEMPTS:
            failure = _code_error(
                "identity.code_attempts",
                "验证码错误次数过多，请重新获取。",
                "Too many wrong tries; ask for a new code.",
            )
        elif not hmac.compare_digest(_code_hash(purpose, row.salt, given), row.code_hash):
            OneTimeCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            failure = _code_error(
                "identity.code_invalid", "验证码不正确。", "The verification code is wrong."
            )
        else:
            OneTimeCode.objects.filter(pk=row.pk).update(consumed_at=now)
    if failure is not None:
        raise failure


# --- TOTP ------------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=settings.NODE_NAME)


def totp_step(secret: str, code: str, last_used_step: int, at: float | None = None) -> int | None:
    """The time step ``code`` belongs to (within one step of drift), if newer than the last used.

    None when the code is wrong or replays a used step.
    """
    if not (isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(at if at is not None else timezone.now().timestamp())
    for step in range(now_step - TOTP_DRIFT_STEPS, now_step + TOTP_DRIFT_STEPS + 1):
        if step > last_used_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def totp_check(device: TotpDevice, code: str) -> bool:
    """Verify a TOTP code and record its step as used (atomic: a code works once)."""
    step = totp_step(device.secret, code, device.last_used_step)
    if step is None:
        return False
    updated = TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
        last_used_step=step
    )
    device.last_used_step = step
    return bool(updated)
