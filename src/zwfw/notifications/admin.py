"""Admin pages for message templates and the outbox.

Templates are edited through ``services.save_template`` (placeholder check, audit). The
outbox is read-only: recipients are shown masked and message bodies not at all (they may
hold verification codes); search by full phone number or address uses the blind index.
A dead message can be sent again with the "requeue" action.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from zwfw.core.errors import ZwfwError
from zwfw.notifications import services
from zwfw.notifications.models import MessageTemplate, OutboxMessage
from zwfw.notifications.providers import mask_recipient


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.pk}"


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["code", "channel", "language", "subject", "body", "description", "is_active"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("subject", "body"):
            try:
                services.check_template_text(cleaned.get(name) or "", cleaned.get("code") or "")
            except ZwfwError as error:
                self.add_error(name, error.message)
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["code", "channel", "language", "subject", "is_active", "updated_at"]
    list_filter = ["channel", "language", "is_active"]
    search_fields = ["code", "subject", "description"]
    ordering = ["code", "channel"]

    def save_model(
        self, request: HttpRequest, obj: MessageTemplate, form: Any, change: bool
    ) -> None:
        services.save_template(obj, actor=_actor(request))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # switch a template off with is_active; code may still name it


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "channel",
        "masked_recipient",
        "template_code",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "template_code"]
    search_fields = ["template_code"]
    fields = (
        "id",
        "channel",
        "masked_recipient",
        "recipient_user",
        "template_code",
        "status",
        "provider",
        "provider_message_id",
        "attempts",
        "max_attempts",
        "next_attempt_at",
        "last_error",
        "dedupe_key",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields
    actions = ["requeue"]
    date_hierarchy = "created_at"

    @admin.display(description="接收方")
    def masked_recipient(self, obj: OutboxMessage) -> str:
        return mask_recipient(obj.channel, obj.recipient)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OutboxMessage], search_term: str
    ) -> tuple[QuerySet[OutboxMessage], bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            by_recipient = services.messages_for_recipient(search_term)
            found = found | queryset.filter(pk__in=by_recipient.values("pk"))
        return found, duplicates

    @admin.action(description="重新发送所选的失败消息", permissions=["requeue"])
    def requeue(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        done = 0
        for pk in queryset.filter(status=OutboxMessage.Status.DEAD).values_list("pk", flat=True):
            services.requeue_message(pk, actor=_actor(request))
            done += 1
        self.message_user(request, f"已重新排队 {done} 条消息。", messages.SUCCESS)

    def has_requeue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_outboxmessage")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
