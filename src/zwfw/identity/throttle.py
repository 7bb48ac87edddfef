"""Rate limits and lockouts: fixed-window counters in the database (``Throttle`` rows).

Every web process sees the same counters, so limits hold with many stateless workers. Keys
are keyed SM3 hashes (``pii.blind_index``) of the account id, IP address or phone number, so
the table holds no personal data. Each counter update runs in its own short transaction
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers): a failure is counted
even when the caller then raises and rolls its own work back.

The numbers (decision 0012):

===================  ===========================================================  ==========
scope                rule                                                          when hit
===================  ===========================================================  ==========
``login:account``    5 failed sign-ins (password, SMS code or TOTP) within 15 min  locked 15 min
``login:ip``         30 failed sign-ins from one address within 15 min             locked 15 min
``sms:phone``        1 code per 60 s and 5 per hour to one phone                   refused
``sms:ip``           10 codes per hour requested from one address                 refused
``register:ip``      10 registration attempts per hour from one address            refused
===================  ===========================================================  ==========
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from zwfw.core.errors import ZwfwError
from zwfw.core.pii import blind_index
from zwfw.identity.models import Throttle


class TooManyRequests(ZwfwError):
    """A rate limit or lockout refused the request (HTTP 429); ``retry_after`` in seconds."""

    http_status = 429
    default_code = "identity.rate_limited"


@dataclass(frozen=True)
class Rule:
    scope: str
    limit: int
    window: dt.timedelta
    lock_for: dt.timedelta | None = None  # None: refuse until the window ends


LOGIN_ACCOUNT = Rule("login:account", 5, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
LOGIN_IP = Rule("login:ip", 30, dt.timedelta(minutes=15), dt.timedelta(minutes=15))
SMS_PHONE_RESEND = Rule("sms:phone:60s", 1, dt.timedelta(seconds=60))
SMS_PHONE_HOUR = Rule("sms:phone:hour", 5, dt.timedelta(hours=1))
SMS_IP_HOUR = Rule("sms:ip:hour", 10, dt.timedelta(hours=1))
REGISTER_IP = Rule("register:ip", 10, dt.timedelta(hours=1))


def key_of(value: object) -> str:
    """The stored key for an account id, IP address or phone number."""
    return blind_index(str(value), "identity.throttle")


def _row(rule: Rule, key: str) -> Throttle:
    """The counter row, locked for this transaction (created on first use)."""
    row = Throttle.objects.select_for_update().filter(scope=rule.scope, key=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return Throttle.objects.create(
                scope=rule.scope, key=key, window_start=timezone.now(), count=0
            )
    except IntegrityError:  # created concurrently: use theirs
        return Throttle.objects.select_for_update().get(scope=rule.scope, key=key)


def retry_after(rule: Rule, key: str, now: dt.datetime | None = None) -> int:
    """Seconds until ``key`` may try again under ``rule`` (0: now). One query, no write."""
    now = now or timezone.now()
    row = Throttle.objects.filter(scope=rule.scope, key=key).first()
    if row is None:
        return 0
    if row.locked_until and row.locked_until > now:
        return math.ceil((row.locked_until - now).total_seconds())
    if rule.lock_for is None and row.count >= rule.limit and row.window_start + rule.window > now:
        return math.ceil((row.window_start + rule.window - now).total_seconds())
    return 0


def hit(rule: Rule, key: str) -> bool:
    """Count one event; returns True when this event reached the limit (lock starts now).

    For rules without ``lock_for`` the caller checks :func:`retry_after` first and refuses
    at the limit; for lockout rules the limit-th failure locks the key for ``lock_for``.
    """
    now = timezone.now()
    with transaction.atomic():
        row = _row(rule, key)
        if row.window_start + rule.window <= now or (row.locked_until and row.locked_until <= now):
            row.window_start, row.count, row.locked_until = now, 0, None
        row.count += 1
        reached = row.count >= rule.limit and rule.lock_for is not None and not row.locked_until
        if reached and rule.lock_for is not None:
            row.locked_until = now + rule.lock_for
        row.save(update_fields=["window_start", "count", "locked_until"])
    return reached


def clear(rule: Rule, key: str) -> None:
    """Forget the counter (a successful sign-in clears the account's failures)."""
    Throttle.objects.filter(scope=rule.scope, key=key).delete()


def refuse(rule: Rule, key: str, message: str, message_en: str, code: str) -> None:
    """Raise ``TooManyRequests`` when ``key`` is over ``rule`` now."""
    wait = retry_after(rule, key)
    if wait > 0:
        raise TooManyRequests(
            code,
            message.format(minutes=max(1, math.ceil(wait / 60)), seconds=wait),
            message_en,
            details={"retry_after": wait},
        )
