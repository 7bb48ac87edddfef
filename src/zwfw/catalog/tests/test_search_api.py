"""GET /api/v1/catalog/items and /browse/{dimension}: public, hostile input never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from zwfw.catalog.tests.search_fixtures import catalogue

pytestmark = pytest.mark.django_db

URL = "/api/v1/catalog/items"


@pytest.fixture
def items() -> dict:
    return catalogue()


def test_search_answers_items_facets_and_next(client: Client, items) -> None:
    response = client.get(URL, {"q": "社保", "limit": "2"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "facets", "facets_exact", "total", "next"}
    first = body["items"][0]
    card = items["social_card"]
    assert first == {
        "id": card.pk,
        "name": "社保卡申领",
        "name_highlight": "<mark>社保卡</mark>申领",
        "implementation_code": card.implementation_code,
        "item_type": "01",
        "item_type_label": "行政许可",
        "department": {"id": card.department_id, "name": "广安市广安区人力资源和社会保障局"},
        "division_code": "511602",
        "online_depth": "IV",
        "promised_days": 10,
        "snippet": first["snippet"],
    }
    assert body["total"] == 3
    assert body["facets"]["theme_person"] == [
        {"code": "030", "label": "就业创业", "count": 1},
        {"code": "085", "label": "社会保障", "count": 2},
    ]
    second = client.get(URL, {"q": "社保", "limit": "2", "cursor": body["next"]}).json()
    assert [i["name"] for i in second["items"]] == ["失业登记"]
    assert second["next"] is None
    assert second["items"][0]["snippet"].startswith("已在本市参加<mark>社保</mark>并缴费")


def test_filters_and_facets_switch(client: Client, items) -> None:
    body = client.get(URL, {"theme_person": "085", "facets": "false"}).json()
    assert [i["name"] for i in body["items"]] == ["社保卡申领", "社会保险登记", "医疗保险参保登记"]
    assert body["facets"] == {}
    assert body["total"] is None


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"item_type": "99"}, "search.filter", "item_type"),
        ({"department": "abc"}, "search.filter", "department"),
        ({"division": "51"}, "search.filter", "division"),
        ({"online_depth": "V"}, "search.filter", "online_depth"),
        ({"target": "0"}, "search.filter", "target"),
        ({"limit": "0"}, "search.limit", "limit"),
        ({"limit": "x"}, "search.limit", "limit"),
        ({"limit": "101"}, "search.limit", "limit"),
        ({"q": "户" * 101}, "search.query_too_long", "q"),
        ({"q": "户", "cursor": "bad"}, "pagination.cursor", "cursor"),
    ],
)
def test_bad_input_is_a_400(client: Client, items, params: dict, code: str, field: str) -> None:
    response = client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["details"]["field"] == field


EDGE_QUERIES = [
    "户",
    "",
    " ",
    "户口，迁移！",
    "户口?迁移",
    '"',
    '"社保',
    "*",
    "社保*",
    "NEAR",
    "NEAR(社保, 医保)",
    "社保 OR 医保",
    "社保 AND 医保",
    "社保 NOT 医保",
    "(社保",
    ":",
    "name_tokens:社保",
    "^社保",
    "-社保",
    "社保 -医保",
    "'社保' & '医保' | !x <-> y:*",
    "%_\\",
    "'; DROP TABLE catalog_item; --",
    "<script>alert(1)</script>",
    "𠀀𠀁",
    "户" * 100,
    "a" * 100,
    "社 保 医 保 户 口 " * 7,
]


@pytest.mark.parametrize("q", EDGE_QUERIES)
def test_edge_case_queries_never_break(client: Client, items, q: str) -> None:
    response = client.get(URL, {"q": q})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    for item in body["items"]:
        assert "<script>" not in item["name_highlight"] + item["snippet"]


def test_edge_case_results(client: Client, items) -> None:
    def names(q: str) -> list[str]:
        return [i["name"] for i in client.get(URL, {"q": q}).json()["items"]]

    assert names("户") == ["户口迁移登记"]
    assert names("户口，迁移！") == ["户口迁移登记"]
    assert names('"社保') == names("社保")
    assert names("社保*") == names("社保")
    assert names("(社保") == names("社保")
    assert names("社保 OR 医保") == []  # OR is a word here, not an operator
    assert len(names("")) == 10  # no query: every published item
    assert len(names('"')) == 10  # nothing searchable: the same
    assert names("户" * 100) == []


def test_search_query_count_is_bounded(
    client: Client, items, django_assert_max_num_queries
) -> None:
    with django_assert_max_num_queries(6):
        assert client.get(URL, {"q": "社保 登记", "target": "1"}).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(URL, {"q": "社保", "facets": "false"}).status_code == 200


def test_browse(client: Client, items) -> None:
    response = client.get("/api/v1/catalog/browse/theme_person")
    assert response.status_code == 200
    body = response.json()
    assert body["dimension"] == "theme_person"
    assert {"code": "085", "label": "社会保障", "count": 3} in body["items"]
    departments = client.get("/api/v1/catalog/browse/department").json()["items"]
    assert departments[0]["count"] == 5
    missing = client.get("/api/v1/catalog/browse/colour")
    assert missing.status_code == 404
    assert missing.json()["code"] == "search.dimension_unknown"
