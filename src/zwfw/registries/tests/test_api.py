"""The registries API: authentication, scope, validation, hostile input, J8, the OIDC hook."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zwfw.core.models import AuditRecord
from zwfw.registries import services
from zwfw.registries.demo import JOURNEY_COMPANY, JOURNEY_PEOPLE
from zwfw.registries.models import Consumer

pytestmark = pytest.mark.usefixtures("registry_data")

LI_NA = JOURNEY_PEOPLE["li_na"]
BASE = "/api/v1/registries"


@pytest.fixture
def hrss(make_consumer) -> tuple[Consumer, str]:
    """The 人社局 system of J8: 核验 of name + ID number only; and its API key."""
    consumer = make_consumer(
        ("population", "verify", ["name", "id_number"]),
        name="人社局业务系统",
        client_id="ga-hrss-test",
    )
    return consumer, services.issue_api_key(consumer)


def post(path: str, body: Any, token: str | None = None, raw: bool = False) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if raw else json.dumps(body, ensure_ascii=False)
    return Client().post(f"{BASE}{path}", data=data, content_type="application/json", **headers)


def test_j8_verify_name_and_id_number_cannot_read_address_every_call_audited(hrss) -> None:
    consumer, key = hrss
    start = AuditRecord.objects.count()
    ok = post("/population/verify", {"key": LI_NA.id_number, "claims": {"name": "李娜"}}, key)
    assert ok.status_code == 200
    assert ok.json() == {"registry": "population", "result": True}
    no = post("/population/verify", {"key": LI_NA.id_number, "claims": {"name": "李四"}}, key)
    assert no.json() == {"registry": "population", "result": False}
    denied = post("/population/query", {"key": LI_NA.id_number, "fields": ["address"]}, key)
    assert denied.status_code == 403
    body = denied.json()
    assert body["code"] == "registry.scope"
    assert body["details"] == {
        "registry": "population",
        "mode": "query",
        "missing": ["id_number", "address"],
    }
    assert "建设路" not in denied.content.decode()
    also_denied = post(
        "/population/verify", {"key": LI_NA.id_number, "claims": {"address": LI_NA.address}}, key
    )
    assert also_denied.status_code == 403
    entries = list(AuditRecord.objects.filter(id__gt=start).order_by("id"))
    assert [e.action for e in entries] == [
        "registries:population:verify",
        "registries:population:verify",
        "registries:population:query_denied",
        "registries:population:verify_denied",
    ]
    assert {e.actor for e in entries} == {consumer.audit_ref}
    assert all(e.request_id for e in entries)
    assert [e.after.get("result") for e in entries[:2]] == [True, False]


def test_compare_and_query_over_the_api(make_consumer) -> None:
    consumer = make_consumer(
        ("population", "compare", ["id_number", "name", "phone"]),
        ("legal_entity", "query", ["uscc", "name", "legal_rep_name"]),
    )
    key = services.issue_api_key(consumer)
    compared = post(
        "/population/compare",
        {"key": LI_NA.id_number, "claims": {"name": "李娜", "phone": "13900000000"}},
        key,
    )
    assert compared.json() == {
        "registry": "population",
        "result": {"name": "match", "phone": "mismatch"},
    }
    queried = post(
        "/legal_entity/query",
        {"key": JOURNEY_COMPANY.uscc, "fields": ["name", "legal_rep_name"]},
        key,
    )
    assert queried.json() == {
        "registry": "legal_entity",
        "record": {"name": "示例餐饮管理有限公司", "legal_rep_name": "张*"},
    }
    missing = post("/legal_entity/query", {"key": "91511602MA6CXY4R8B", "fields": ["name"]}, key)
    assert (missing.status_code, missing.json()["code"]) == (404, "registry.not_found")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
        {"HTTP_AUTHORIZATION": "Bearer zrk_not-a-real-key-0000000000000000000000"},
        {"HTTP_AUTHORIZATION": "Bearer " + "x" * 5000},
        {"HTTP_AUTHORIZATION": "Bearer zrk_\u674e\u5a1c"},
    ],
)
def test_missing_or_wrong_credentials_are_401(headers: dict[str, str]) -> None:
    response = Client().post(
        f"{BASE}/population/verify",
        data=json.dumps({"key": LI_NA.id_number, "claims": {"name": "李娜"}}),
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 401
    assert response.json()["code"] == "auth.required"


def test_inactive_consumer_and_replaced_key_are_401(hrss) -> None:
    consumer, key = hrss
    body = {"key": LI_NA.id_number, "claims": {"name": "李娜"}}
    new_key = services.issue_api_key(consumer)
    assert post("/population/verify", body, key).status_code == 401
    assert post("/population/verify", body, new_key).status_code == 200
    services.update_consumer(consumer, is_active=False)
    assert post("/population/verify", body, new_key).status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"key": "511602199201200024", "claims": {"name": "李娜"}}, "id_number.check_digit"),
        ({"key": "51160219920120002", "claims": {"name": "李娜"}}, "id_number.length"),
        ({"key": "", "claims": {"name": "李娜"}}, "registry.key"),
        ({"key": LI_NA.id_number, "claims": {"salary": "1"}}, "registry.unknown_field"),
        ({"key": LI_NA.id_number, "claims": {}}, "registry.claims"),
    ],
)
def test_bad_keys_and_fields_are_400(hrss, body: dict, code: str) -> None:
    _, key = hrss
    response = post("/population/verify", body, key)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_unknown_registry_is_400_listing_the_registries(hrss) -> None:
    _, key = hrss
    response = post("/credit/verify", {"key": "x", "claims": {"name": "x"}}, key)
    assert response.status_code == 400
    assert response.json()["details"]["allowed"] == ["population", "legal_entity"]


HOSTILE_BODIES: list[Any] = [
    "not json",
    "[]",
    "null",
    '{"key": 1, "claims": {"name": "李娜"}}',
    '{"key": ["x"], "claims": {"name": "李娜"}}',
    '{"key": "511602199201200023", "claims": {"name": 1}}',
    '{"key": "511602199201200023", "claims": {"name": null}}',
    '{"key": "511602199201200023", "claims": [["name", "李娜"]]}',
    '{"key": "511602199201200023", "claims": "name"}',
    '{"key": "511602199201200023"}',
    '{"key": "' + "9" * 100_000 + '", "claims": {"name": "x"}}',
    '{"key": "511602199201200023", "claims": {"name": "' + "李" * 100_000 + '"}}',
    '{"key": "511602199201200023", "claims": {"' + "n" * 10_000 + '": "x"}}',
    '{"key": "５１１６０２１９９２０１２０００２３", "claims": {"name": "李娜"}}',
    '{"key": "511602199201200023\\u0000", "claims": {"name": "李娜"}}',
    '{"key": "\\ud800", "claims": {"name": "\\udfff"}}',
    '{"key": "511602199201200023", "claims": '
    '{"birth_date": "9999-99-99", "phone": "+", "sex": "\\u0000"}}',
    '{"key": "511602199201200023", "claims": {"name": "李娜"}, "claims": {"__proto__": "x"}}',
    '{"key": "\' OR 1=1 --", "claims": {"name": "李娜"}}',
    "{" * 10_000,
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
@pytest.mark.parametrize("mode", ["verify", "compare", "query"])
def test_hostile_input_is_never_a_500(make_consumer, body: str, mode: str) -> None:
    consumer = make_consumer(
        *[
            ("population", m, list(services.POPULATION.fields))
            for m in ("verify", "compare", "query")
        ]
    )
    key = services.issue_api_key(consumer)
    if mode == "query":
        body = body.replace('"claims"', '"fields"')
    response = post(f"/population/{mode}", body, key, raw=True)
    assert response.status_code in {200, 400, 403, 404, 413, 422}, response.content[:300]
    assert "code" in response.json() or response.status_code == 200


def test_hostile_registry_paths(hrss) -> None:
    _, key = hrss
    for registry in ("..%2F..", "%00", "population%20", "人口库", "x" * 300):
        response = post(f"/{registry}/verify", {"key": "x", "claims": {"name": "x"}}, key)
        assert response.status_code in {400, 404}, registry


def test_api_query_count_is_bounded(hrss) -> None:
    _, key = hrss
    body = {"key": LI_NA.id_number, "claims": {"name": "李娜"}}
    post("/population/verify", body, key)  # warm-up (lazy imports, cached division index)
    with CaptureQueriesContext(connection) as queries:
        assert post("/population/verify", body, key).status_code == 200
    own = [
        q["sql"]
        for q in queries.captured_queries
        if "core_audit" not in q["sql"] and "SAVEPOINT" not in q["sql"].upper()
    ]
    assert len(own) == 3, own  # consumer by key hash, grants, record


@pytest.mark.skipif(not apps.is_installed("zwfw.sso"), reason="the OIDC provider is not installed")
def test_oidc_client_credentials_token_authenticates_the_consumer(hrss) -> None:
    from oauth2_provider.models import get_access_token_model, get_application_model

    consumer, _ = hrss
    application = get_application_model().objects.create(
        name="人社局业务系统",
        client_id=consumer.client_id,
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )
    tokens = get_access_token_model().objects
    later = timezone.now() + dt.timedelta(hours=1)
    tokens.create(
        application=application,
        token="machine-token-1",
        expires=later,
        scope="registry.population.verify",
    )
    body = {"key": LI_NA.id_number, "claims": {"name": "李娜"}}
    response = post("/population/verify", body, "machine-token-1")
    assert response.json() == {"registry": "population", "result": True}
    assert AuditRecord.objects.latest("id").actor == consumer.audit_ref
    # The token's scope does not cover 比对: refused before the grants are consulted, audited.
    compare = post("/population/compare", body, "machine-token-1")
    assert compare.status_code == 403
    assert compare.json()["code"] == "registry.token_scope"
    denied = AuditRecord.objects.latest("id")
    assert denied.action == "registries:population:compare_denied"
    assert denied.after["missing_token_scope"] == "registry.population.compare"
    # The token's scope allows it but the consumer's grants do not cover the field.
    tokens.create(
        application=application,
        token="machine-token-2",
        expires=later,
        scope="registry.population.verify registry.population.query",
    )
    query = post(
        "/population/query", {"key": LI_NA.id_number, "fields": ["address"]}, "machine-token-2"
    )
    assert query.json()["code"] == "registry.scope"
    tokens.create(
        application=application,
        token="expired-token",
        expires=timezone.now() - dt.timedelta(seconds=1),
        scope="registry.population.verify",
    )
    assert post("/population/verify", body, "expired-token").status_code == 401
    from zwfw.identity.models import User

    person = User.objects.create_user("someone", password="x" * 12)
    tokens.create(
        application=application,
        token="person-token",
        expires=later,
        user=person,
        scope="registry.population.verify",
    )
    assert post("/population/verify", body, "person-token").status_code == 401
    other = get_application_model().objects.create(
        name="未登记系统", client_type="confidential", authorization_grant_type="client-credentials"
    )
    tokens.create(
        application=other,
        token="unregistered-token",
        expires=later,
        scope="registry.population.verify",
    )
    assert post("/population/verify", body, "unregistered-token").status_code == 401


@pytest.mark.skipif(not apps.is_installed("zwfw.sso"), reason="the OIDC provider is not installed")
def test_registry_scopes_are_declared_with_the_provider() -> None:
    from zwfw.sso.scopes import SCOPES

    for registry in ("population", "legal_entity"):
        for mode in ("verify", "compare", "query"):
            assert SCOPES[f"registry.{registry}.{mode}"].machine
