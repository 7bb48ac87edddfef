"""Only the node API, so these tests do not depend on the page URLconfs of other apps."""

from __future__ import annotations

from django.urls import path

from zwfw.api.main import api

urlpatterns = [path("api/v1/", api.urls)]
