"""The provider interface every notification channel plugin implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from zwfw.core.masking import mask_phone

if TYPE_CHECKING:
    from zwfw.notifications.models import OutboxMessage


class ProviderError(Exception):
    """A send failed. The message is stored as ``last_error``: never put a recipient or the
    message text in it."""


class TemporaryFailure(ProviderError):
    """Worth retrying later (gateway down, rate limited, mailbox busy, network error)."""


class PermanentFailure(ProviderError):
    """Retrying cannot help (number or address rejected, content refused): give up now."""


@runtime_checkable
class Provider(Protocol):
    """A way to deliver messages of some channels (SMS gateway, SMTP server, in-site inbox).

    ``send`` delivers one :class:`~zwfw.notifications.models.OutboxMessage` (its ``attempts``
    already counts this attempt) and returns the provider's id for it, or raises
    :class:`TemporaryFailure` / :class:`PermanentFailure`. It may be called again for the
    same message after a temporary failure or a crash, so a provider that can pass the
    outbox id to its gateway as an idempotency key should.
    """

    name: str
    channels: frozenset[str]

    def send(self, message: OutboxMessage) -> str: ...


def mask_recipient(channel: str, recipient: str) -> str:
    """A recipient fit for logs: ``138****5678``, ``l***@example.cn``, ``user:12``."""
    if channel == "sms":
        return mask_phone(recipient)
    if channel == "email":
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}" if domain else "***"
    return recipient
