"""The in-site inbox (我的消息): delivering is creating a ``SiteMessage`` for the user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from zwfw.notifications.providers.base import PermanentFailure

if TYPE_CHECKING:
    from zwfw.notifications.models import OutboxMessage

_TITLE_MAX = 200


class SiteProvider:
    """Writes the message into the recipient user's in-site inbox."""

    name = "site"
    channels = frozenset({"site"})

    def send(self, message: OutboxMessage) -> str:
        from zwfw.notifications.models import SiteMessage

        if message.recipient_user_id is None:
            raise PermanentFailure("站内消息的接收用户已不存在")
        title = message.subject or (message.body.splitlines() or [""])[0]
        # get_or_create: a retry after a crash between insert and commit must not duplicate.
        inbox_message, _ = SiteMessage.objects.get_or_create(
            outbox=message,
            defaults={
                "user_id": message.recipient_user_id,
                "title": title[:_TITLE_MAX],
                "body": message.body,
            },
        )
        return f"site-{inbox_message.pk}"
