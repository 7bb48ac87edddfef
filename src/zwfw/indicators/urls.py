"""Pages of zwfw.indicators, mounted at ``/workbench/dashboards/``."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from zwfw.indicators import views

app_name = "indicators"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard_view, name="dashboard"),
]
