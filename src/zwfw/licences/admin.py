"""Read-only admin pages for licence types and licences (writes go through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zwfw.licences.models import Licence, LicenceType


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LicenceType)
class LicenceTypeAdmin(_ReadOnly):
    list_display = ("code", "name", "holder_kind", "validity_years", "created_automatically")
    search_fields = ("code", "name")


@admin.register(Licence)
class LicenceAdmin(_ReadOnly):
    list_display = ("identifier", "licence_type", "holder_name", "issuer", "status", "issued_at")
    list_filter = ("status", "holder_kind")
    search_fields = ("identifier", "holder_name")
    fields = (
        "identifier",
        "licence_type",
        "holder_kind",
        "holder_name",
        "issuer",
        "serial",
        "version",
        "face",
        "issued_at",
        "valid_from",
        "valid_until",
        "status",
        "revoked_at",
        "revocation_reason",
        "case",
        "previous",
    )
    readonly_fields = fields
