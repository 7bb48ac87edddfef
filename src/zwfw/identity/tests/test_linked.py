"""Linked registration (关联注册): an account of a trusted OIDC provider becomes a local one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from zwfw.core.models import AuditRecord
from zwfw.identity.models import User
from zwfw.identity.tests.conftest import LI_NA, PASSWORD, WANG, last_code, person
from zwfw.sso import services as sso
from zwfw.sso.models import ExternalProvider, FederatedIdentity

pytestmark = pytest.mark.usefixtures("registry_data")


@pytest.fixture
def provider(db: None) -> ExternalProvider:
    return ExternalProvider.objects.create(
        slug="sc",
        name="四川省政务服务网",
        issuer="https://sc.example.gov.cn/",
        client_id="ga-node",
        client_secret="secret",
        max_trust_level="L3",
    )


def _pending(client: Client, provider: ExternalProvider, **claims: Any) -> None:
    session = client.session
    request = type("R", (), {"session": session})()
    sso.remember_pending_identity(
        request,
        provider,
        {"sub": "ext-123", "name": LI_NA.name, "zwfw_trust_level": "L4", **claims},
    )
    session.save()


def _post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def _register(client: Client, phone: str = LI_NA.phone, **overrides: Any) -> Any:
    _post(client, "/api/v1/identity/sms-codes", {"phone": phone, "purpose": "link"})
    body = {
        "id_number": LI_NA.id_number,
        "phone": phone,
        "code": last_code(phone),
        "password": PASSWORD,
        "agreement_version": 1,
        **overrides,
    }
    return _post(client, "/api/v1/identity/register/linked", body)


def test_linked_registration_creates_binds_and_signs_in(provider: ExternalProvider) -> None:
    client = Client()
    _pending(client, provider, phone_number="+8613800138000")
    shown = client.get("/api/v1/identity/register/linked").json()
    assert shown == {
        "provider_name": "四川省政务服务网",
        "issuer": "https://sc.example.gov.cn/",
        "name": "李*",
        "id_number": "",
        "phone": "138****8000",
        "trust_level": "L3",  # the provider claims L4; this node accepts at most L3 from it
        "id_number_required": True,
    }
    created = _register(client)
    assert created.status_code == 201, created.json()
    user = User.objects.get(kind="person")
    assert (user.trust_level, user.trust_source, user.real_name) == ("L3", "linked", "李娜")
    assert FederatedIdentity.objects.get().user == user
    assert client.get("/api/v1/identity/me").json()["id_number"] == LI_NA.id_number
    record = AuditRecord.objects.get(action="identity:register")
    assert record.after["via"] == "linked"
    # the pending state is used up
    assert client.get("/api/v1/identity/register/linked").json()["code"] == (
        "identity.no_pending_link"
    )


def test_linked_registration_checks_the_id_number_with_the_provider_name(
    provider: ExternalProvider,
) -> None:
    client = Client()
    _pending(client, provider)
    refused = _register(client, id_number=WANG.id_number)
    assert refused.json()["code"] == "identity.identity_mismatch"
    assert not User.objects.exists()
    assert not FederatedIdentity.objects.exists()


def test_an_existing_account_is_not_taken_over(provider: ExternalProvider) -> None:
    person(LI_NA)
    client = Client()
    _pending(client, provider)
    refused = _register(client, phone="13800000001")
    assert (refused.status_code, refused.json()["code"]) == (409, "identity.already_registered")
    assert not FederatedIdentity.objects.exists()


def test_nothing_pending(db: None) -> None:
    response = Client().get("/api/v1/identity/register/linked")
    assert (response.status_code, response.json()["code"]) == (404, "identity.no_pending_link")


def test_register_page_sends_a_pending_federated_sign_in_to_the_linked_page(
    provider: ExternalProvider,
) -> None:
    client = Client()
    _pending(client, provider)
    response = client.get("/accounts/register/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/register/linked/")
    page = client.get("/accounts/register/linked/")
    assert page.status_code == 200
    assert "四川省政务服务网" in page.content.decode()
