"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's
live server.

Playwright cannot download its own browser here, so the tests launch ``/usr/bin/chromium``
(``apt-get install chromium``; ``make test`` installs it) and are skipped, with the reason,
when it is missing. axe-core comes from the npm registry (``make setup``); the accessibility
helper skips when ``node_modules/axe-core/axe.min.js`` is absent.

Fixtures
--------
``browser``       one headless Chromium per test session (per xdist worker);
``page``          a fresh context per test: zh-CN, 1280×900, base URL = the live server;
``phone_page``    the same at 360×740 (touch, mobile user agent);
``demo_world``    the demo data of ``zwfw load_demo`` (about 3–4 s; the transactional test
                  flushes it afterwards);
``demo_node``     the same without the journey citizens, their company and the sample cases
                  (for journeys that register people), with the case-handling staff;
``demo_people``   ``demo_node`` plus the journey citizens, the company and the agent;
``login``         ``login(page, identifier, password=DEMO_PASSWORD)`` signs in through the form;
``screenshot``    ``screenshot(page, name)`` saves ``<name>-<width>.png`` (full page) under
                  ``$ZWFW_SCREENSHOT_DIR`` (default ``var/screenshots/``);
                  ``screenshot.widths(page, name, (360, 1280))`` resizes and saves each width;
``off_the_loop``  ``off_the_loop(function, *args)`` runs service calls that sign PDFs outside
                  Playwright's event loop (a plain function, not a fixture);
``axe``           ``axe(page)`` runs axe-core (WCAG 2.1 A/AA rules) and returns the serious and
                  critical violations as ``[{"id", "impact", "help", "targets"}]``.

Every browser test is marked ``@pytest.mark.browser`` and needs
``@pytest.mark.django_db(transaction=True)``: the server thread reads committed data.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("ZWFW_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
#: Playwright's waits (ms): generous, the machine is shared by parallel workers.
TIMEOUT_MS = 15_000

# Playwright's sync API runs an event loop in the test's thread; Django then refuses ORM calls
# from that thread ("cannot call this from an async context"). The tests are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


CSP_MIDDLEWARE = "zwfw.portal.middleware.ContentSecurityPolicyMiddleware"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Chromium through Playwright (skipped without /usr/bin/chromium)"
    )
    # The pages are tested under their Content-Security-Policy (no inline script or style):
    # make sure the live server sends it even where the settings do not list the middleware.
    from django.conf import settings

    if settings.configured and CSP_MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [*settings.MIDDLEWARE, CSP_MIDDLEWARE]


def screenshot_dir() -> Path:
    directory = Path(os.environ.get("ZWFW_SCREENSHOT_DIR") or ROOT / "var" / "screenshots")
    if not directory.is_absolute():
        directory = ROOT / directory
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(autouse=True)
def _migration_data_for_transactional_tests(request: pytest.FixtureRequest) -> None:
    """As in src/zwfw/conftest.py (which does not reach tests/): transactional tests start
    after another test's flush, so put the data-migration rows back."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from zwfw.core.testing import reseed_migration_data

    reseed_migration_data()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: 'apt-get install chromium' runs the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover — a dev install has it
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def _context(browser: Any, live_server: Any, **options: Any) -> Any:
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **options,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = _context(browser, live_server, viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone_page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = _context(
        browser,
        live_server,
        viewport=PHONE,
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        user_agent=(
            "Mozilla/5.0 (Linux; Android 13; Pixel 5) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
        ),
    )
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def demo_world(transactional_db: None) -> dict[str, int]:
    """The demo node: divisions, calendar, departments, staff, catalogue, registries, journey
    accounts, sample cases (``zwfw.core.demo.load_demo``)."""
    from zwfw.core.demo import load_demo

    # Off Playwright's event loop: the licences' demo signs PDFs (pyHanko runs asyncio).
    result: dict[str, int] = off_the_loop(load_demo)
    return result


@pytest.fixture
def demo_node(transactional_db: None) -> None:
    """The demo node before any citizen registered: reference data, departments and staff
    (with the journey departments' clerk, reviewer and decider), catalogue, registries."""
    from zwfw.cases import processes
    from zwfw.cases.demo import load_staff_roles
    from zwfw.catalog.demo import load_demo_catalog
    from zwfw.catalog.synonyms import seed_synonyms
    from zwfw.core import context
    from zwfw.core.calendar import seed_calendar
    from zwfw.core.demo import load_departments, load_users
    from zwfw.organisations.divisions import load_divisions
    from zwfw.registries.demo import load_demo_registries

    def load() -> None:
        with context.bind(actor="system:load_demo"):
            load_divisions()
            seed_calendar()
            load_departments()
            load_users()
            seed_synonyms()
            load_demo_catalog()
            load_demo_registries()
            processes.ensure_builtin()
            load_staff_roles()

    off_the_loop(load)


@pytest.fixture
def demo_people(demo_node: None) -> None:
    """``demo_node`` plus the journey citizens (李娜, 张伟 and his company, 王强 its agent,
    刘德福 registered at the window) — without the sample cases and the later apps' demo data
    (faster than ``demo_world``)."""
    from zwfw.core import context
    from zwfw.identity.demo import load_demo_accounts

    def load() -> None:
        with context.bind(actor="system:load_demo"):
            load_demo_accounts()

    off_the_loop(load)


@pytest.fixture
def login() -> Callable[..., None]:
    from zwfw.core.demo import DEMO_PASSWORD

    def sign_in(page: Any, identifier: str, password: str = DEMO_PASSWORD, next: str = "") -> None:
        target = "/accounts/login/" + (f"?next={next}" if next else "")
        page.goto(target)
        page.fill("#identifier", identifier)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("form:has(#identifier) button[type=submit]")
        if "/accounts/login/" in page.url:
            raise AssertionError(f"login as {identifier} failed: {page.inner_text('main')}")

    return sign_in


class Screenshots:
    """Saves PNG screenshots under :func:`screenshot_dir` (``name-<width>.png``)."""

    #: Taller pages are cut here, so a long guide stays a readable, small file.
    MAX_HEIGHT = 2000

    def __call__(self, page: Any, name: str) -> Path:
        width = page.viewport_size["width"]
        path = screenshot_dir() / f"{name}-{width}.png"
        height = page.evaluate("() => document.documentElement.scrollHeight")
        if height <= self.MAX_HEIGHT:
            page.screenshot(path=str(path), full_page=True)
        else:
            page.screenshot(
                path=str(path),
                full_page=True,
                clip={"x": 0, "y": 0, "width": width, "height": self.MAX_HEIGHT},
            )
        self._shrink(path)
        return path

    #: Screenshots are committed (docs/screenshots): larger files are reduced to 256 colours,
    #: which keeps text sharp at a third of the size.
    MAX_BYTES = 250_000

    def _shrink(self, path: Path) -> None:
        if path.stat().st_size <= self.MAX_BYTES:
            return
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover — Pillow comes with the PDF libraries
            return
        with Image.open(path) as image:
            reduced = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
        reduced.save(path, optimize=True)

    def widths(self, page: Any, name: str, widths: tuple[int, ...] = (360, 1280)) -> list[Path]:
        original = page.viewport_size
        paths = []
        try:
            for width in widths:
                page.set_viewport_size({"width": width, "height": original["height"]})
                paths.append(self(page, name))
        finally:
            page.set_viewport_size(original)
        return paths


@pytest.fixture
def screenshot() -> Screenshots:
    return Screenshots()


def no_horizontal_scroll(page: Any) -> bool:
    """Whether the page fits its viewport's width (no layout break)."""
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def off_the_loop(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``function`` in a thread of its own and return its result (or raise its error).

    Playwright's sync API keeps an asyncio event loop in the test's thread; code that runs
    its own loop (pyHanko signs PDFs with ``asyncio.run``: notices and licences at a case's
    steps) cannot run there. Staff steps done through the services in a browser test go
    through this. The thread closes its database connection when done.
    """
    import threading

    from django.db import connections

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # handed back to the test's thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name="staff-step")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def overflowing(page: Any) -> list[str]:
    """Elements that reach past the viewport's right edge (what breaks a narrow layout)."""
    found: list[str] = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            return [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > width + 1)
                .slice(0, 8)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.className && typeof e.className === 'string'
                        ? '.' + e.className.split(' ').join('.') : '')
                     + ' ' + Math.round(e.getBoundingClientRect().right));
        }"""
    )
    return found


@pytest.fixture
def axe() -> Callable[..., list[dict[str, Any]]]:
    if not AXE_JS.exists():
        pytest.skip(f"{AXE_JS.relative_to(ROOT)} is missing: 'make setup' installs axe-core")
    source = AXE_JS.read_text(encoding="utf-8")

    def run(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
        # evaluate() is not subject to the page's Content-Security-Policy (a <script> tag would be)
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(f"() => {{ {source}\n }}")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            raise AssertionError("axe-core did not load")
        violations: list[dict[str, Any]] = page.evaluate(
            """async () => {
                const result = await window.axe.run(document, {
                    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                    resultTypes: ['violations'],
                });
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
                }));
            }"""
        )
        return [v for v in violations if v["impact"] in impacts]

    return run
