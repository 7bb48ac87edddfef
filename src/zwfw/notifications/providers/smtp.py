"""Real e-mail through an SMTP server, with Django's SMTP backend and the ``EMAIL_*`` settings.

The SMTP backend is named explicitly (not ``EMAIL_BACKEND``), so choosing ``email=smtp`` in
``ZWFW_NOTIFY_CHANNELS`` always means a real server. Replies map onto the outbox's retry
rules: a 5xx refusal of the recipient or the content is permanent; 4xx replies, connection
errors and timeouts are temporary. Authentication and sender refusals are configuration
problems an operator can fix, so they are retried too rather than losing the message.
"""

from __future__ import annotations

import smtplib
from email.utils import parseaddr
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from zwfw.notifications.providers.base import PermanentFailure, TemporaryFailure

if TYPE_CHECKING:
    from zwfw.notifications.models import OutboxMessage

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_TIMEOUT = 30.0  # seconds; shorter than the outbox's claim lease
_PERMANENT_CODE = 500


def _reply(error: smtplib.SMTPResponseException) -> str:
    text = error.smtp_error
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"SMTP {error.smtp_code} {detail[:200]}"


class SmtpProvider:
    """Sends e-mail through the SMTP server of the ``EMAIL_*`` settings."""

    name = "smtp"
    channels = frozenset({"email"})

    def send(self, message: OutboxMessage) -> str:
        sender = settings.DEFAULT_FROM_EMAIL
        domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        # The outbox id as Message-ID: it is the provider id, names the outbox row, and stays
        # the same on a retry, so a duplicate after a lost reply can be recognised downstream.
        message_id = f"<{message.pk}@{domain}>"
        connection = get_connection(
            SMTP_BACKEND,
            fail_silently=False,
            timeout=getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_TIMEOUT,
        )
        email = EmailMessage(
            subject=message.subject,
            body=message.body,
            from_email=sender,
            to=[message.recipient],
            headers={"Message-ID": message_id},
            connection=connection,
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            reason = f"SMTP recipient refused ({', '.join(map(str, codes))})"
            if codes and all(code >= _PERMANENT_CODE for code in codes):
                raise PermanentFailure(reason) from None
            raise TemporaryFailure(reason) from None
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused) as error:
            raise TemporaryFailure(_reply(error)) from None
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= _PERMANENT_CODE:
                raise PermanentFailure(_reply(error)) from None
            raise TemporaryFailure(_reply(error)) from None
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(f"SMTP unavailable: {type(error).__name__}: {error}") from None
        return message_id
