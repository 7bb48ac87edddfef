"""Admin pages of the catalogue.

Search synonyms and life events (owned by the search work; other catalogue admin classes may
follow below, each section self-contained).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from zwfw.catalog.models import LifeEvent, Synonym
from zwfw.catalog.synonyms import normalised_term

# --- search: synonyms and life events --------------------------------------------------------


class SynonymForm(forms.ModelForm):
    """Terms are stored as searches compare them (NFKC, lower case, letters and digits only)."""

    class Meta:
        model = Synonym
        fields = ["group", "term"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field in ("group", "term"):
            if field in cleaned:
                value = normalised_term(cleaned[field])
                if not value:
                    self.add_error(field, "须包含汉字、字母或数字。")
                cleaned[field] = value
        term = cleaned.get("term")
        if term and Synonym.objects.filter(term=term).exclude(pk=self.instance.pk).exists():
            self.add_error("term", f"“{term}”已属于另一同义词组。")
        return cleaned


@admin.register(Synonym)
class SynonymAdmin(admin.ModelAdmin):
    form = SynonymForm
    list_display = ["term", "group", "updated_at"]
    list_filter = ["group"]
    search_fields = ["term", "group"]
    ordering = ["group", "term"]


@admin.register(LifeEvent)
class LifeEventAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "audience", "order"]
    list_editable = ["name", "order"]
    list_filter = ["audience"]
    search_fields = ["code", "name"]


# --- items and change requests (read-only: every change goes through a change request) -------

from zwfw.catalog.models import ChangeRequest, ChangeReview, Item, ItemVersion  # noqa: E402


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ItemVersionInline(admin.TabularInline):
    model = ItemVersion
    fields = ("number", "name", "content_hash", "published_at", "change_request")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(ReadOnlyAdmin):
    list_display = (
        "implementation_code",
        "name",
        "status",
        "department",
        "item_type",
        "online_depth",
    )
    list_filter = ("status", "item_type", "online_depth")
    search_fields = ("implementation_code", "name")
    list_select_related = ("department",)
    inlines = (ItemVersionInline,)


class ChangeReviewInline(admin.TabularInline):
    model = ChangeReview
    fields = ("step", "reviewer", "decision", "opinion", "decided_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(ChangeRequest)
class ChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "department", "created_by", "created_at")
    list_filter = ("kind", "status")
    list_select_related = ("department", "created_by")
    inlines = (ChangeReviewInline,)
