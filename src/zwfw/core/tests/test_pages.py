"""The home page, the language switch and the HTML 404 page."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_page_in_chinese_by_default(client: Client, settings) -> None:
    settings.NODE_NAME = "广安市政务服务平台"
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html  # the BCP 47 tag screen readers know
    assert "广安市政务服务平台" in html
    assert 'href="/api/v1/docs"' in html


def test_language_switch_to_english(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert '<html lang="en">' in client.get("/").content.decode()


def test_html_404_page(client: Client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_english_page_is_translated(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert "Integrated online government services platform" in html
    assert "Open API" in html  # the footer, translated


def test_browser_language_does_not_switch_the_portal(client: Client) -> None:
    response = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="zh-CN">' in response.content.decode()
    assert response["Content-Language"] == "zh-hans"
