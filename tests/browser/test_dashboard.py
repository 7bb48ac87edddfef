"""The supervision dashboard in Chromium: ECharts (from node_modules) draws every chart under
the site's Content-Security-Policy, with no script error; the tables stay beside the charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.browser.conftest import off_the_loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ECHARTS = Path(__file__).resolve().parents[2] / "node_modules" / "echarts" / "dist"
CHARTS = (
    "scores", "warnings-severity", "warnings-department", "trend", "ratings", "rectifications",
)  # fmt: skip


def test_dashboard_draws_every_chart(page: Any, live_server: Any, settings: Any) -> None:
    if not ECHARTS.is_dir():
        pytest.skip("needs node_modules/echarts (make setup)")
    from zwfw.indicators.tests.conftest import build_world

    settings.INDICATORS_WARNING_CEILING = 1000
    world = off_the_loop(build_world)  # its cases sign notices: not on Playwright's loop
    client = Client()
    client.force_login(world["supervisor"])
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto("/workbench/dashboards/?from=2026-03-01&to=2026-03-31")
    page.wait_for_selector(".js-charts", timeout=15_000)
    for name in CHARTS:
        chart = page.locator(f'[data-chart="{name}"]')
        assert chart.locator("canvas").count() == 1, name
        box = chart.bounding_box()
        assert box is not None
        assert box["height"] > 100, name
    # the tables stay: the same numbers without the charts
    assert page.locator("table.ind-table").count() >= 6
    assert errors == []
