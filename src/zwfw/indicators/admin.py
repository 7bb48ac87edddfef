"""Read-only admin pages for indicator weights and snapshots (writes go through the services:
weights by ``PUT /api/v1/indicators/weights``, audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from zwfw.indicators.models import IndicatorSnapshot, IndicatorWeight


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IndicatorWeight)
class IndicatorWeightAdmin(_ReadOnly):
    list_display = ("code", "weight", "updated_by", "updated_at")


@admin.register(IndicatorSnapshot)
class IndicatorSnapshotAdmin(_ReadOnly):
    list_display = ("period_from", "period_to", "department", "total_score", "computed_at")
    list_filter = ("department",)
    list_select_related = ("department",)
