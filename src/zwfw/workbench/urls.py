"""Pages of zwfw.workbench."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

app_name = "workbench"

urlpatterns: list[URLPattern | URLResolver] = []
