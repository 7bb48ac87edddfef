"""The browser-test infrastructure itself: Chromium starts, the live server answers, axe-core
loads under the page's Content-Security-Policy, screenshots are written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import no_horizontal_scroll, screenshot_dir

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_loads_in_chromium_with_the_node_name(
    page: Any, phone_page: Any, screenshot: Any, axe: Any
) -> None:
    response = page.goto("/")
    assert response is not None
    assert response.status == 200
    assert page.locator("html").get_attribute("lang", timeout=1000).startswith("zh")
    assert page.locator("h1").count() == 1
    path = screenshot(page, "infrastructure-home")
    assert path.parent == screenshot_dir()
    assert path.stat().st_size > 1000
    phone_page.goto("/")
    assert no_horizontal_scroll(phone_page)
    violations = axe(page)
    assert isinstance(violations, list)
    path.unlink()
