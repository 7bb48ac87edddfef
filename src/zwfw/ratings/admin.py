"""Read-only admin pages for ratings and rectifications (writes go through the services).

The rater's text is shown masked and the return-call phone not at all: the admin is for
looking things up, the API's audited ``…/contact`` is for calling back.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zwfw.core.masking import mask_text
from zwfw.ratings.models import Rating, Rectification, RectificationStep


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rating)
class RatingAdmin(_ReadOnly):
    list_display = ("id", "kind", "case", "visit_reference", "department", "level", "channel")
    list_filter = ("kind", "level", "channel", "excluded")
    list_select_related = ("case", "department")
    search_fields = ("visit_reference", "case__number")
    fields = (
        "kind",
        "case",
        "visit_reference",
        "department",
        "item",
        "level",
        "efficiency",
        "guide_accuracy",
        "convenience",
        "attitude",
        "masked_text",
        "channel",
        "rater_name",
        "named",
        "excluded",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="评价内容（脱敏）")
    def masked_text(self, obj: Rating) -> str:
        return mask_text(obj.text or "")


class StepInline(admin.TabularInline):
    model = RectificationStep
    fields = ("at", "action", "from_status", "to_status", "actor_name", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Rectification)
class RectificationAdmin(_ReadOnly):
    list_display = ("id", "rating", "department", "status", "deadline", "ledger_deadline")
    list_filter = ("status", "outcome")
    list_select_related = ("rating", "department")
    inlines = (StepInline,)
    exclude = ()
    readonly_fields = (
        "rating",
        "department",
        "status",
        "opened_at",
        "deadline",
        "outcome",
        "verification",
        "measures",
        "ledger_deadline",
        "verified_at",
        "verified_by",
        "return_call_at",
        "return_call_by",
        "return_call_summary",
        "appeal_reason",
        "appealed_at",
        "appeal_opinion",
        "appeal_reviewed_at",
        "appeal_reviewed_by",
        "closed_at",
        "closed_by",
        "close_opinion",
    )
