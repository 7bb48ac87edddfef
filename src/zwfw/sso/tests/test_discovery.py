"""Discovery document and JWKS: what relying parties configure themselves from."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.test import Client
from jwcrypto import jwk


@pytest.fixture
def discovery(client: Client) -> dict:
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    return json.loads(response.content)


@pytest.mark.django_db
def test_discovery_document(discovery: dict) -> None:
    base = "http://testserver"
    assert discovery["issuer"] == base
    assert discovery["authorization_endpoint"] == f"{base}/oauth/authorize/"
    assert discovery["token_endpoint"] == f"{base}/oauth/token/"
    assert discovery["userinfo_endpoint"] == f"{base}/oauth/userinfo/"
    assert discovery["jwks_uri"] == f"{base}/oauth/jwks/"
    assert discovery["end_session_endpoint"] == f"{base}/oauth/logout/"
    assert discovery["revocation_endpoint"] == f"{base}/oauth/revoke/"
    assert discovery["introspection_endpoint"] == f"{base}/oauth/introspect/"
    assert discovery["response_types_supported"] == ["code"]
    assert discovery["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
    ]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert discovery["subject_types_supported"] == ["public"]
    assert discovery["authorization_response_iss_parameter_supported"] is True
    assert {"client_secret_basic", "client_secret_post"} <= set(
        discovery["token_endpoint_auth_methods_supported"]
    )
    assert {"openid", "profile", "phone", "zwfw.realname", "registry.population.verify"} <= set(
        discovery["scopes_supported"]
    )
    assert set(discovery["claims_supported"]) == {
        "sub",
        "name",
        "preferred_username",
        "email",
        "phone_number",
        "zwfw_acting_for",
        "zwfw_phone_masked",
        "zwfw_subject_kind",
        "zwfw_trust_level",
    }


@pytest.mark.django_db
def test_configured_issuer_wins_over_the_request_host(client: Client, settings) -> None:
    # ZWFW_OIDC_ISSUER ends up here (the toolkit reloads its settings on the change).
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": "https://zwfw.example.gov.cn",
    }
    data = client.get("/.well-known/openid-configuration").json()
    assert data["issuer"] == "https://zwfw.example.gov.cn"


@pytest.mark.django_db
def test_oauth_authorization_server_metadata(client: Client) -> None:
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert response.json()["issuer"] == "http://testserver"


@pytest.mark.django_db
def test_jwks_publishes_the_signing_key(client: Client) -> None:
    response = client.get("/oauth/jwks/")
    assert response.status_code == 200
    assert "max-age=3600" in response["Cache-Control"]
    keys = response.json()["keys"]
    assert len(keys) == 1
    (key,) = keys
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert set(key) == {"kty", "alg", "use", "kid", "n", "e"}  # public parts only
    private = serialization.load_pem_private_key(
        settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode(), password=None
    )
    published = jwk.JWK(**key)
    expected = jwk.JWK.from_pem(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert published.thumbprint() == expected.thumbprint() == key["kid"]
