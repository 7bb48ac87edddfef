"""The operational endpoints, the API error shape and the committed OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from zwfw.core.management.commands.export_openapi import openapi_text

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.django_db
def test_healthz_and_readyz(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


@pytest.mark.django_db
def test_metrics_counts_requests(client: Client) -> None:
    client.get("/healthz")
    body = client.get("/metrics").content.decode()
    assert 'zwfw_http_requests_total{method="GET",route="healthz",status="200"}' in body


@pytest.mark.django_db
def test_unknown_api_path_gets_json_error(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["message"] == "请求的地址不存在。"
    assert body["details"] == {"path": "/api/v1/no-such-thing"}


@pytest.mark.django_db
def test_request_id_is_echoed_or_made(client: Client) -> None:
    echoed = client.get("/healthz", headers={"X-Request-ID": "abcdef0123456789"})
    assert echoed["X-Request-ID"] == "abcdef0123456789"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(made["X-Request-ID"]) == 32


def test_committed_openapi_matches_the_code() -> None:
    committed = (REPO / "docs" / "api" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_text(), "run `make schema` and commit docs/api/openapi.json"


@pytest.mark.django_db
def test_node_endpoint(client: Client, settings) -> None:
    settings.NODE_NAME = "测试节点"
    body = client.get("/api/v1/node").json()
    assert body["name"] == "测试节点"
    assert body["division_code"] == settings.NODE_DIVISION_CODE


def test_code_tables_are_served(client: Client) -> None:
    listing = client.get("/api/v1/codes").json()
    names = {table["name"] for table in listing}
    assert {"item_type", "natural_person_theme", "legal_person_theme", "online_step"} <= names
    item_type = client.get("/api/v1/codes/item_type").json()
    assert item_type["title"] == "事项类型"
    assert {"code": "01", "label": "行政许可"} in item_type["items"]
    assert {"code": "20", "label": "公共服务"} in item_type["items"]
    themes = client.get("/api/v1/codes/legal_person_theme").json()
    assert {"code": "165", "label": "法人注销"} in themes["items"]
    missing = client.get("/api/v1/codes/nope")
    assert missing.status_code == 404
    assert "item_type" in missing.json()["details"]["available"]


@pytest.mark.django_db
def test_json_is_utf8_not_escaped(client: Client, settings) -> None:
    settings.NODE_NAME = "广安市政务服务平台"
    assert "广安市政务服务平台".encode() in client.get("/api/v1/node").content
    assert "请求的地址不存在".encode() in client.get("/api/v1/nowhere").content
