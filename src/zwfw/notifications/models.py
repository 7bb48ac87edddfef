"""Notification templates, the outbox, in-site messages and the sandbox's sent box."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from zwfw.core.pii import BlindIndexField, EncryptedTextField


class Channel(models.TextChoices):
    SMS = "sms", "短信"
    EMAIL = "email", "电子邮件"
    SITE = "site", "站内消息"


class MessageTemplate(models.Model):
    """A message text with ``{placeholders}``; one per code, channel and language."""

    code = models.CharField(max_length=64, help_text="e.g. identity.sms_code")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=8, default="zh-hans")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "channel", "language"], name="template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code}/{self.channel}/{self.language}"


class OutboxMessage(models.Model):
    """A message waiting to be sent, being retried, sent, or given up on.

    Recipients (phone numbers, e-mail addresses) are personal data: encrypted, with a blind
    index so that "all messages to this phone" can still be found.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        RETRYING = "retrying", "重试中"
        DEAD = "dead", "发送失败"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = EncryptedTextField()
    recipient_index = BlindIndexField(source="recipient")
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    template_code = models.CharField(max_length=64)
    subject = models.CharField(max_length=200, blank=True)
    body = EncryptedTextField(help_text="rendered text; may hold codes or personal data")
    dedupe_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    provider = models.CharField(max_length=32, blank=True)
    provider_message_id = models.CharField(max_length=128, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.template_code}:{self.status}"


class SiteMessage(models.Model):
    """A message in a user's in-site inbox (我的消息)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_messages"
    )
    outbox = models.OneToOneField(OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL)
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="sitemsg_user_idx")]

    def __str__(self) -> str:
        return self.title


class SandboxDelivery(models.Model):
    """What the sandbox SMS / e-mail provider "delivered": a stand-in for the phone's inbox.

    Demo and tests read SMS codes here; the real providers never write to it.
    """

    outbox = models.ForeignKey(OutboxMessage, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = EncryptedTextField()
    recipient_index = BlindIndexField(source="recipient")
    subject = models.CharField(max_length=200, blank=True)
    body = EncryptedTextField()
    provider_message_id = models.CharField(max_length=64, unique=True)
    delivered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-delivered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel}:{self.provider_message_id}"
