"""The dashboard in Chromium: ECharts (from node_modules) draws every chart, no script errors.

Skipped when ``/usr/bin/chromium`` or the ECharts package (``make setup``) is missing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

CHROMIUM = Path(os.environ.get("ZWFW_CHROMIUM", "/usr/bin/chromium"))
ECHARTS = Path(__file__).resolve().parents[4] / "node_modules" / "echarts" / "dist"
CHARTS = (
    "scores", "warnings-severity", "warnings-department", "trend", "ratings", "rectifications",
)  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_dashboard_draws_every_chart(live_server: Any, settings: Any) -> None:
    if not CHROMIUM.exists() or not ECHARTS.is_dir():
        pytest.skip("needs /usr/bin/chromium and node_modules/echarts (make setup)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from zwfw.indicators.tests.conftest import build_world

    settings.INDICATORS_WARNING_CEILING = 1000
    world = build_world()
    client = Client()
    client.force_login(world["supervisor"])
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    errors: list[str] = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            # Failed loads are checked by URL below (the browser also asks for /favicon.ico).
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text)
                    if m.type == "error" and "Failed to load resource" not in m.text
                    else None
                ),
            )
            page.on(
                "response",
                lambda r: (
                    errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.goto(f"{live_server.url}/workbench/dashboards/?from=2026-03-01&to=2026-03-31")
            page.wait_for_selector(".js-charts", timeout=15_000)
            for name in CHARTS:
                chart = page.locator(f'[data-chart="{name}"]')
                assert chart.locator("canvas").count() == 1, name
                assert chart.bounding_box()["height"] > 100, name  # type: ignore[index]
            # the tables stay: the same numbers without the charts
            assert page.locator("table.ind-table").count() >= 6
        finally:
            browser.close()
    assert errors == []
