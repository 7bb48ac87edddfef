"""Notifications: render templates, queue messages in the outbox, deliver them with retries.

Flow. :func:`queue_message` validates the recipient, renders the template and inserts an
:class:`OutboxMessage` in the caller's transaction; when that transaction commits, a
``deliver_message`` task is enqueued. :func:`deliver` claims the message, hands it to the
channel's provider (``ZWFW_NOTIFY_CHANNELS``) and records the outcome. A temporary failure is
retried with exponential backoff and jitter (about 30 s, 2 min, 8 min, 32 min, …, at most
6 h) until ``max_attempts`` attempts were made, then the message is ``dead``; a permanent
failure makes it ``dead`` at once. :func:`deliver_due` (``zwfw send_outbox``) sends whatever
is due, so nothing is lost if a task never ran.

Claiming. A worker claims due messages in a short transaction — rows picked with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL (concurrent workers take disjoint rows;
SQLite serialises writers instead) — and, in that same transaction, counts the attempt and
pushes ``next_attempt_at`` a lease (10 min) ahead. The provider is called after the commit,
so no database lock is held during a slow SMTP exchange, and the outcome is written only if
the row still carries this worker's attempt number. Two workers racing for one message
therefore send it once. Only a worker that dies mid-send (or a send longer than the lease)
can lead to a second send, after the lease: delivery is at-least-once, which is why
providers get the outbox id to pass on as an idempotency key.

Personal data. Recipients and bodies are encrypted in the table; logs, ``last_error`` and
error messages carry masked recipients only and never the message text (it may hold a
verification code).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import string
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from zwfw.core import audit
from zwfw.core.errors import Conflict, NotFound, ValidationError
from zwfw.core.masking import mask_text
from zwfw.core.metrics import NOTIFICATIONS
from zwfw.core.validators import validate_mobile
from zwfw.notifications.models import Channel, MessageTemplate, OutboxMessage
from zwfw.notifications.providers import (
    PermanentFailure,
    Provider,
    TemporaryFailure,
    mask_recipient,
    provider_for,
)

logger = logging.getLogger("zwfw.notifications")

DUE_STATUSES = (OutboxMessage.Status.PENDING, OutboxMessage.Status.RETRYING)
CLAIM_LEASE = timedelta(minutes=10)
CLAIM_BATCH = 10  # claimed together; small, so the lease outlasts sending the whole batch
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_FACTOR = 4
BACKOFF_CAP = timedelta(hours=6)
BACKOFF_JITTER = 0.1  # up to +10 %, so messages failed together do not retry together
_ERROR_MAX = 500
_SUBJECT_MAX = 200
_DEDUPE_MAX = 128


class Outcome(StrEnum):
    """What one :func:`deliver` call did."""

    SENT = "sent"
    RETRYING = "retrying"
    DEAD = "dead"
    SKIPPED = "skipped"  # not due, already sent or dead, or claimed by another worker


# --- rendering -----------------------------------------------------------------------------

_FORMATTER = string.Formatter()


class _MissingKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _StrictContext(dict[str, Any]):
    def __missing__(self, key: str) -> Any:
        raise _MissingKey(key)


def _template_invalid(code: str, reason: str) -> ValidationError:
    return ValidationError(
        "notify.template_invalid",
        f"消息模板 {code} 格式有误：{reason}",
        f"message template {code} is malformed: {reason}",
        details={"template": code},
    )


def check_template_text(text: str, code: str = "") -> list[str]:
    """The placeholder names in ``text``; raises ``ValidationError("notify.template_invalid")``.

    Only plain ``{name}`` placeholders (with an optional format spec such as ``{fee:.2f}``)
    are allowed: attribute and index access (``{user.password}``, ``{a[0]}``) would let a
    template reach into objects passed in the context.
    """
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as error:
        raise _template_invalid(code, str(error)) from None
    names = []
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        if not name.isidentifier() or (spec and "{" in spec):
            raise _template_invalid(code, f"占位符 {{{name}}} 只能是简单名称")
        names.append(name)
    return names


def _fill(text: str, context: Mapping[str, Any], code: str) -> str:
    check_template_text(text, code)
    try:
        return text.format_map(_StrictContext(context))
    except _MissingKey as missing:
        raise ValidationError(
            "notify.template_context",
            f"消息模板 {code} 缺少参数：{missing.key}",
            f"message template {code} needs the value {missing.key!r}",
            field="context",
            details={"template": code, "key": missing.key},
        ) from None
    except (ValueError, TypeError) as error:
        raise _template_invalid(code, type(error).__name__) from None


def _template(code: str, channel: str, language: str) -> MessageTemplate:
    candidates = MessageTemplate.objects.filter(code=code, channel=channel, is_active=True)
    found = candidates.filter(language=language).first()
    if found is None and language != settings.LANGUAGE_CODE:
        found = candidates.filter(language=settings.LANGUAGE_CODE).first()
    if found is None:
        raise NotFound(
            "notify.template_unknown",
            f"消息模板不存在或已停用：{code}（{channel}）",
            f"no active message template {code!r} for channel {channel!r}",
            details={"template": code, "channel": channel, "language": language},
        )
    return found


def render(
    template_code: str, channel: str, context: Mapping[str, Any], language: str = "zh-hans"
) -> tuple[str, str]:
    """Render an active template into ``(subject, body)``.

    The template for ``language`` is used, else the one in the site's default language.
    ``context`` fills ``{name}`` placeholders; ``node`` defaults to the node's name
    (``ZWFW_NODE_NAME``), for the 【…】 signature of SMS texts. Raises
    :class:`NotFound` (``notify.template_unknown``) and :class:`ValidationError`
    (``notify.template_context`` naming the missing key, ``notify.template_invalid``).
    """
    template = _template(template_code, channel, language)
    values = {"node": settings.NODE_NAME, **context}
    subject = _fill(template.subject, values, template_code)
    body = _fill(template.body, values, template_code)
    # A subject is one header line: a newline in a value must not start another header.
    return " ".join(subject.split())[:_SUBJECT_MAX], body


# --- recipients ----------------------------------------------------------------------------

_EMAIL = EmailValidator()


def _recipient_invalid(channel: str, message: str, shown: str) -> ValidationError:
    return ValidationError(
        "notify.recipient_invalid",
        message,
        f"invalid {channel} recipient",
        field="recipient",
        details={"channel": channel, "recipient": shown},
    )


def _check_mobile(value: str) -> str:
    try:
        return validate_mobile(value, field="recipient")
    except ValidationError as error:
        # Its messages name lengths and prefixes, never the number itself.
        raise ValidationError(
            "notify.recipient_invalid",
            error.message,
            error.message_en,
            field="recipient",
            details={"channel": "sms", "reason": error.code},
        ) from None


def normalise_recipient(channel: str, recipient: str, user: Any = None) -> str:
    """The recipient as stored: a bare mainland mobile number, an e-mail address, or
    ``user:<pk>`` for in-site messages. Raises ``ValidationError``
    (``notify.channel_invalid``, ``notify.recipient_invalid``,
    ``notify.recipient_user_required``)."""
    if channel == Channel.SMS:
        return _check_mobile(recipient)
    if channel == Channel.EMAIL:
        address = (recipient or "").strip()
        try:
            _EMAIL(address)
        except DjangoValidationError:
            shown = mask_recipient("email", address)
            raise _recipient_invalid("email", "电子邮件地址格式不正确。", shown) from None
        return address
    if channel == Channel.SITE:
        if user is None or getattr(user, "pk", None) is None:
            raise ValidationError(
                "notify.recipient_user_required",
                "站内消息必须指定接收用户。",
                "an in-site message needs a user",
                field="user",
            )
        return f"user:{user.pk}"
    raise ValidationError(
        "notify.channel_invalid",
        f"消息渠道无效：{channel}",
        f"unknown channel {channel!r}",
        field="channel",
        details={"channels": list(Channel.values)},
    )


# --- queueing ------------------------------------------------------------------------------


def queue_message(
    *,
    channel: str,
    recipient: str,
    template_code: str,
    context: Mapping[str, Any],
    user: Any = None,
    dedupe_key: str | None = None,
    language: str = "zh-hans",
) -> OutboxMessage:
    """Put a message in the outbox; it is sent after the caller's transaction commits.

    Validates the recipient for the channel (SMS: mainland mobile; e-mail: address; site:
    ``user`` required, ``recipient`` ignored), renders the template now, inserts the row in
    the caller's transaction and, on commit, enqueues the ``deliver_message`` task. With a
    ``dedupe_key`` already used, the existing message is returned and nothing new is queued
    (also when two transactions race). Raises :class:`ValidationError` (see
    :func:`normalise_recipient` and :func:`render`, and ``notify.dedupe_key_too_long``) and
    :class:`NotFound` (``notify.template_unknown``); nothing is written when it raises.
    """
    if dedupe_key is not None:
        if len(dedupe_key) > _DEDUPE_MAX:
            raise ValidationError(
                "notify.dedupe_key_too_long",
                f"去重键不能超过{_DEDUPE_MAX}个字符。",
                f"dedupe_key is longer than {_DEDUPE_MAX} characters",
                field="dedupe_key",
            )
        existing = OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    address = normalise_recipient(channel, recipient, user)
    subject, body = render(template_code, channel, context, language)
    provider = provider_for(channel)
    try:
        with transaction.atomic():  # a savepoint: a lost race must not spoil the caller's
            message = OutboxMessage.objects.create(
                channel=channel,
                recipient=address,
                recipient_user=user,
                template_code=template_code,
                subject=subject,
                body=body,
                dedupe_key=dedupe_key,
                provider=provider.name,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return OutboxMessage.objects.get(dedupe_key=dedupe_key)
    logger.info(
        "notification %s queued: %s %s to %s",
        message.pk,
        template_code,
        channel,
        mask_recipient(channel, address),
    )
    transaction.on_commit(partial(_enqueue_delivery, str(message.pk)))
    return message


def _enqueue_delivery(message_id: str, run_after: datetime | None = None) -> None:
    from zwfw.notifications.tasks import deliver_message

    task = deliver_message
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # the periodic sweep (zwfw send_outbox) picks the retry up
        task = task.using(run_after=run_after)
    try:
        task.enqueue(message_id)
    except Exception:
        # The row is committed; the sweep delivers it. Never fail the caller's request here.
        logger.exception("notification %s: could not enqueue its delivery task", message_id)


def messages_for_recipient(recipient: str, channel: str | None = None) -> QuerySet[OutboxMessage]:
    """Outbox messages sent to ``recipient`` (found through the blind index)."""
    value = (recipient or "").strip()
    if channel in (None, Channel.SMS):
        # A phone number is stored in its normal form; anything else is looked up as given.
        with contextlib.suppress(ValidationError):
            value = validate_mobile(value)
    index = OutboxMessage._meta.get_field("recipient_index").index_of(value)
    found = OutboxMessage.objects.filter(recipient_index=index)
    return found.filter(channel=channel) if channel else found


# --- delivery ------------------------------------------------------------------------------


def backoff(attempt: int) -> timedelta:
    """Delay after failed attempt number ``attempt`` (1-based), before jitter."""
    return min(BACKOFF_BASE * BACKOFF_FACTOR ** max(attempt - 1, 0), BACKOFF_CAP)


def _with_jitter(delay: timedelta) -> timedelta:
    extra_ms = secrets.randbelow(int(delay.total_seconds() * 1000 * BACKOFF_JITTER) + 1)
    return delay + timedelta(milliseconds=extra_ms)


def _claim(candidates: QuerySet[OutboxMessage], now: datetime, limit: int) -> list[tuple[Any, int]]:
    """Take up to ``limit`` due messages: count the attempt and lease them (see module doc)."""
    with transaction.atomic():
        due = candidates.filter(
            status__in=DUE_STATUSES, next_attempt_at__lte=now, attempts__lt=F("max_attempts")
        ).order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        rows = list(due.values_list("pk", "attempts")[:limit])
        if rows:
            OutboxMessage.objects.filter(pk__in=[pk for pk, _ in rows]).update(
                attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE
            )
    return [(pk, attempts + 1) for pk, attempts in rows]


def _record(pk: Any, attempt: int, **changes: Any) -> bool:
    """Write an outcome if the row is still ours (same attempt, not finished)."""
    updated = OutboxMessage.objects.filter(pk=pk, attempts=attempt, status__in=DUE_STATUSES).update(
        **changes
    )
    if not updated:
        logger.warning(
            "notification %s: outcome of attempt %s not recorded (lease lost)", pk, attempt
        )
    return bool(updated)


def _attempt(pk: Any, attempt: int, now: datetime) -> Outcome:
    message = OutboxMessage.objects.filter(pk=pk).first()
    if message is None:  # deleted since it was claimed
        return Outcome.SKIPPED
    shown = mask_recipient(message.channel, message.recipient)
    provider: Provider | None = None
    try:
        provider = provider_for(message.channel)
        provider_id = provider.send(message)
    except PermanentFailure as error:
        return _failed(message, attempt, now, str(error), permanent=True)
    except TemporaryFailure as error:
        return _failed(message, attempt, now, str(error), permanent=False)
    except ImproperlyConfigured as error:
        logger.error("notification %s not sent: %s", pk, error)
        return _failed(message, attempt, now, str(error), permanent=False)
    except Exception as error:
        # A provider bug must neither stop the sweep nor lose the message: retry it.
        logger.exception("notification %s: provider crashed", pk)
        return _failed(message, attempt, now, f"{type(error).__name__}", permanent=False)
    _record(
        pk,
        attempt,
        status=OutboxMessage.Status.SENT,
        sent_at=now,
        provider=provider.name,
        provider_message_id=provider_id[:128],
        last_error="",
    )
    NOTIFICATIONS.labels(message.channel, "sent").inc()
    logger.info(
        "notification %s sent: %s to %s via %s (attempt %s)",
        pk,
        message.channel,
        shown,
        provider.name,
        attempt,
    )
    return Outcome.SENT


def _failed(
    message: OutboxMessage, attempt: int, now: datetime, reason: str, *, permanent: bool
) -> Outcome:
    error = mask_text(reason)[:_ERROR_MAX] or "error"
    shown = mask_recipient(message.channel, message.recipient)
    if permanent or attempt >= message.max_attempts:
        _record(
            message.pk,
            attempt,
            status=OutboxMessage.Status.DEAD,
            last_error=error,
            next_attempt_at=now,
        )
        NOTIFICATIONS.labels(message.channel, "dead").inc()
        logger.warning(
            "notification %s to %s dead after attempt %s: %s", message.pk, shown, attempt, error
        )
        return Outcome.DEAD
    next_at = now + _with_jitter(backoff(attempt))
    if _record(
        message.pk,
        attempt,
        status=OutboxMessage.Status.RETRYING,
        last_error=error,
        next_attempt_at=next_at,
    ):
        transaction.on_commit(partial(_enqueue_delivery, str(message.pk), next_at))
    NOTIFICATIONS.labels(message.channel, "retry").inc()
    logger.info(
        "notification %s to %s: attempt %s failed (%s), retry at %s",
        message.pk,
        shown,
        attempt,
        error,
        next_at.isoformat(),
    )
    return Outcome.RETRYING


def deliver(message_id: uuid.UUID | str, *, now: datetime | None = None) -> Outcome:
    """Try to send one outbox message now, if it is due (pending or retrying, its
    ``next_attempt_at`` reached, attempts left) and no other worker holds it.

    Returns the :class:`Outcome`; provider failures are recorded on the message (never
    raised): ``retrying`` with the next attempt scheduled, or ``dead``. ``now`` is for tests
    and sweeps that fix the time.
    """
    now = now or timezone.now()
    claims = _claim(OutboxMessage.objects.filter(pk=message_id), now, 1)
    if not claims:
        return Outcome.SKIPPED
    return _attempt(claims[0][0], claims[0][1], now)


def deliver_due(limit: int = 100, *, now: datetime | None = None) -> int:
    """Send up to ``limit`` due messages (oldest due first); returns how many were attempted.

    Also gives up on messages whose last allowed attempt was claimed but never finished (the
    worker died), marking them ``dead``. For the periodic sweep (``zwfw send_outbox``).
    """
    now = now or timezone.now()
    OutboxMessage.objects.filter(
        status__in=DUE_STATUSES, next_attempt_at__lte=now, attempts__gte=F("max_attempts")
    ).update(
        status=OutboxMessage.Status.DEAD,
        last_error="最后一次发送中断（发送进程退出） last attempt interrupted",
    )
    attempted = 0
    while attempted < limit:
        claims = _claim(OutboxMessage.objects.all(), now, min(CLAIM_BATCH, limit - attempted))
        if not claims:
            break
        for pk, attempt in claims:
            _attempt(pk, attempt, now)
        attempted += len(claims)
    return attempted


# --- staff operations ----------------------------------------------------------------------

_TEMPLATE_FIELDS = ("code", "channel", "language", "subject", "body", "description", "is_active")


def save_template(template: MessageTemplate, actor: str | None = None) -> MessageTemplate:
    """Create or change a message template (staff edit).

    Checks the placeholders of subject and body (``notify.template_invalid``) and the
    channel (``notify.channel_invalid``); atomic; audited as
    ``notifications:template:create`` / ``:update`` with before/after.
    """
    if template.channel not in Channel.values:
        raise ValidationError(
            "notify.channel_invalid",
            f"消息渠道无效：{template.channel}",
            f"unknown channel {template.channel!r}",
            field="channel",
        )
    check_template_text(template.subject, template.code)
    check_template_text(template.body, template.code)
    with transaction.atomic():
        before = None
        if template.pk is not None:
            old = MessageTemplate.objects.select_for_update().filter(pk=template.pk).first()
            before = {f: getattr(old, f) for f in _TEMPLATE_FIELDS} if old else None
        template.save()
        audit.record(
            "notifications:template:" + ("update" if before else "create"),
            "notifications.message_template",
            template.pk,
            before=before,
            after={f: getattr(template, f) for f in _TEMPLATE_FIELDS},
            actor=actor,
        )
    return template


def requeue_message(message_id: uuid.UUID | str, actor: str | None = None) -> OutboxMessage:
    """Give a ``dead`` message a fresh set of attempts, starting now (staff action).

    Audited as ``notifications:outbox:requeue``; the delivery task is enqueued on commit.
    Raises :class:`NotFound` (``notify.message_unknown``) and :class:`Conflict`
    (``notify.message_not_dead``) for a message that is not dead.
    """
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None:
            raise NotFound("notify.message_unknown", "消息不存在。", "no such outbox message")
        if message.status != OutboxMessage.Status.DEAD:
            raise Conflict(
                "notify.message_not_dead",
                "只有发送失败的消息可以重新发送。",
                "only a dead message can be requeued",
                details={"status": message.status},
            )
        before = {"status": message.status, "attempts": message.attempts}
        OutboxMessage.objects.filter(pk=message.pk).update(
            status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        audit.record(
            "notifications:outbox:requeue",
            "notifications.outbox_message",
            str(message.pk),
            before=before,
            after={"status": OutboxMessage.Status.PENDING.value, "attempts": 0},
            actor=actor,
        )
        transaction.on_commit(partial(_enqueue_delivery, str(message.pk)))
    message.refresh_from_db()
    return message
