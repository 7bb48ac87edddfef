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
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    response = page.goto("/")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
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
    # htmx loads under the policy and swaps search results without a console error
    page.goto("/search/")
    page.fill("#q", "户口")
    page.press("#q", "Enter")
    page.wait_for_url("**/search/?q=*")
    # the deferred script may still be running on a busy machine: wait for it, then check
    page.wait_for_function("() => typeof window.htmx === 'object'", timeout=10_000)
    assert page.evaluate("() => typeof window.htmx") == "object"
    assert [m for m in console if m.startswith("error")] == []
