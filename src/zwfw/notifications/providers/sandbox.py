"""The sandbox SMS and e-mail gateway: "delivers" into the ``SandboxDelivery`` table.

It behaves like a real gateway — returns a provider message id, and fails on request — so
demos and tests exercise the whole outbox. Deterministic failure triggers:

============================  ==========================================================
recipient                     behaviour
============================  ==========================================================
SMS ``13900000001``           temporary failure on attempts 1 and 2, delivered on the 3rd
SMS ``13900000002``           permanent failure (number rejected)
SMS ``13900000003``           temporary failure on every attempt (ends ``dead``)
e-mail ``fail-twice@…``       as 13900000001
e-mail ``fail-permanent@…``   as 13900000002
e-mail ``fail-always@…``      as 13900000003
============================  ==========================================================

Any other recipient is delivered at once. Demo and tests read SMS codes from
``SandboxDelivery``; the log gets only a masked line.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from zwfw.notifications.providers.base import PermanentFailure, TemporaryFailure, mask_recipient

if TYPE_CHECKING:
    from zwfw.notifications.models import OutboxMessage

logger = logging.getLogger("zwfw.notifications.sandbox")

FAIL_TWICE = {"13900000001", "fail-twice"}
FAIL_PERMANENTLY = {"13900000002", "fail-permanent"}
FAIL_ALWAYS = {"13900000003", "fail-always"}


def _trigger(channel: str, recipient: str) -> str:
    return recipient.partition("@")[0].lower() if channel == "email" else recipient


class SandboxProvider:
    """Sandbox gateway for SMS and e-mail."""

    name = "sandbox"
    channels = frozenset({"sms", "email"})

    def send(self, message: OutboxMessage) -> str:
        from zwfw.notifications.models import SandboxDelivery

        trigger = _trigger(message.channel, message.recipient)
        if trigger in FAIL_PERMANENTLY:
            raise PermanentFailure("沙箱网关：接收方被拒绝（模拟永久失败）")
        if trigger in FAIL_ALWAYS or (trigger in FAIL_TWICE and message.attempts <= 2):
            raise TemporaryFailure("沙箱网关：服务暂时不可用（模拟临时失败）")
        provider_id = f"sbx-{uuid.uuid4().hex}"
        SandboxDelivery.objects.create(
            outbox=message,
            channel=message.channel,
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
            provider_message_id=provider_id,
        )
        logger.info(
            "sandbox delivered %s to %s as %s",
            message.channel,
            mask_recipient(message.channel, message.recipient),
            provider_id,
        )
        return provider_id
