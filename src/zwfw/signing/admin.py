"""Read-only admin pages for the seal registry (keys are never shown; writes are services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zwfw.signing.models import Seal


@admin.register(Seal)
class SealAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "es_id", "valid_from", "valid_until", "revoked_at")
    list_filter = ("seal_type",)
    search_fields = ("name", "es_id", "department__name")
    fields = (
        "department",
        "seal_type",
        "name",
        "es_id",
        "valid_from",
        "valid_until",
        "revoked_at",
        "revocation_reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made by zwfw.signing.services.seal_for / make_seal

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
