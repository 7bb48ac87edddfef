"""Portal tests reuse the case tests' world (departments, staff, 李娜, a company and its agent,
three published items)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from zwfw.cases.tests.conftest import world  # noqa: F401 — the fixture, shared

CSP = "zwfw.portal.middleware.ContentSecurityPolicyMiddleware"


@pytest.fixture(autouse=True)
def _content_security_policy(settings: Any) -> None:
    """The policy middleware, as the settings will list it (added by the lead)."""
    if CSP not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, CSP]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Browse counts and popular items are cached a minute: start every test without them."""
    cache.clear()
    yield
    cache.clear()
