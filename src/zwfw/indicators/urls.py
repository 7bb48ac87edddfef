"""Pages of zwfw.indicators."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "indicators"

urlpatterns: list[URLPattern | URLResolver] = []
