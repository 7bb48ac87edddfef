"""``client_for_bearer``: the machine identity behind a Bearer token, for other apps' APIs."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from zwfw.sso.tests import helpers
from zwfw.sso.tokens import client_for_bearer

AccessToken = get_access_token_model()
pytestmark = pytest.mark.django_db


def _token(client: Client, created: helpers.services.CreatedClient) -> str:
    basic = base64.b64encode(f"{created.client_id}:{created.client_secret}".encode()).decode()
    response = client.post(
        "/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200
    return str(response.json()["access_token"])


def _request(header: str | None) -> object:
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    return RequestFactory().get("/api/v1/registries/population/verify", **extra)


def test_a_machine_token_names_its_client_and_scopes(
    client: Client, django_assert_num_queries
) -> None:
    created = helpers.machine_client(["registry.population.verify", "introspection"])
    token = _token(client, created)
    with django_assert_num_queries(1):
        found = client_for_bearer(_request(f"Bearer {token}"))
    assert found == (created.client_id, frozenset({"registry.population.verify", "introspection"}))
    assert client_for_bearer(_request(f"bearer  {token} ")) == found  # scheme is case-insensitive


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic abc", "Token x", "Bearer " + "x" * 600, "Bearer 中文"],
)
def test_no_or_malformed_header_is_none(header: str | None) -> None:
    assert client_for_bearer(_request(header)) is None


def test_unknown_expired_and_revoked_tokens_are_none(client: Client) -> None:
    created = helpers.machine_client()
    assert client_for_bearer(_request("Bearer not-a-token")) is None
    expired = _token(client, created)
    AccessToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert client_for_bearer(_request(f"Bearer {expired}")) is None
    revoked = _token(client, created)
    basic = base64.b64encode(f"{created.client_id}:{created.client_secret}".encode()).decode()
    response = client.post(
        "/oauth/revoke/", {"token": revoked}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200
    assert client_for_bearer(_request(f"Bearer {revoked}")) is None


def test_a_persons_token_is_not_a_machine_credential(client: Client) -> None:
    web = helpers.web_client(skip_authorization=True)
    token = AccessToken.objects.create(
        user=helpers.person(),
        application=web.application,
        scope="openid",
        expires=timezone.now() + dt.timedelta(hours=1),
        token="person-token-0123456789",
    )
    assert token.token_checksum
    assert client_for_bearer(_request("Bearer person-token-0123456789")) is None


def test_issuing_a_machine_token_costs_a_fixed_number_of_queries(
    client: Client, django_assert_num_queries
) -> None:
    """Client with its scope policy in one query, the token, its audit record (head lock,
    insert, head update), and the two savepoints around them (in a test the outer transaction
    is a savepoint too): no scope-policy query, no read-back of the new token."""
    created = helpers.machine_client()
    basic = base64.b64encode(f"{created.client_id}:{created.client_secret}".encode()).decode()
    for _ in range(2):
        with django_assert_num_queries(9):
            response = client.post(
                "/oauth/token/",
                "grant_type=client_credentials",
                content_type="application/x-www-form-urlencoded",
                HTTP_AUTHORIZATION=f"Basic {basic}",
            )
        assert response.status_code == 200
