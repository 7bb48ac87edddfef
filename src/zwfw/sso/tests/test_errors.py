"""Protocol errors: the right OAuth error, status and JSON shape; hostile input never a 500."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from zwfw.core.models import AuditRecord
from zwfw.sso.models import ExternalProvider
from zwfw.sso.tests import helpers

pytestmark = pytest.mark.django_db

VERIFIER = "v" * 64
CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
)


def _basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def _error(response: Any, status: int, error: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error
    assert body["code"] == f"oauth.{error}"
    assert body["message"]  # Chinese, for people
    assert "details" in body
    return body


def _code(client: Client, created: helpers.services.CreatedClient, **extra: str) -> str:
    params = {
        "client_id": created.client_id,
        "response_type": "code",
        "scope": "openid profile",
        "redirect_uri": helpers.RP_CALLBACK,
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "state": "st",
        **extra,
    }
    response = client.get("/oauth/authorize/", params)
    assert response.status_code == 302, response.content[:300]
    return parse_qs(urlsplit(response["Location"]).query)["code"][0]


@pytest.fixture
def signed_in(client: Client) -> Client:
    client.force_login(helpers.person())
    return client


def test_token_endpoint_client_errors(client: Client) -> None:
    machine = helpers.machine_client()
    url = "/oauth/token/"
    body = {"grant_type": "client_credentials"}
    _error(client.post(url, body, HTTP_AUTHORIZATION=_basic("nobody", "x")), 401, "invalid_client")
    _error(
        client.post(url, body, HTTP_AUTHORIZATION=_basic(machine.client_id, "wrong")),
        401,
        "invalid_client",
    )
    # The password grant is off (RFC 9700); oauthlib checks the credentials first.
    password = client.post(
        url,
        {"grant_type": "password", "username": "p0001", "password": "x-Strong-Pass-1"},
        HTTP_AUTHORIZATION=_basic(machine.client_id, machine.client_secret),
    )
    assert password.status_code == 400
    assert password.json()["error"] in {"invalid_grant", "unauthorized_client"}
    _error(
        client.post(
            url,
            {"grant_type": "nonsense"},
            HTTP_AUTHORIZATION=_basic(machine.client_id, machine.client_secret),
        ),
        400,
        "unsupported_grant_type",
    )
    _error(
        client.post(url, {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}),
        400,
        "unsupported_grant_type",
    )
    assert not AuditRecord.objects.filter(action="sso:token:issue").exists()
    ok = client.post(
        url, {**body, "client_id": machine.client_id, "client_secret": machine.client_secret}
    )
    assert ok.status_code == 200  # client_secret_post works too
    assert ok["Cache-Control"] == "no-store"


def test_a_sign_in_client_cannot_use_client_credentials(client: Client) -> None:
    web = helpers.web_client()
    response = client.post(
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=_basic(web.client_id, web.client_secret),
    )
    _error(response, 400, "unauthorized_client")


def test_code_exchange_errors(signed_in: Client) -> None:
    web = helpers.web_client(skip_authorization=True)
    auth = _basic(web.client_id, web.client_secret)
    exchange = {"grant_type": "authorization_code", "redirect_uri": helpers.RP_CALLBACK}
    other = helpers.web_client()
    # Another client's code
    code = _code(signed_in, web)
    _error(
        signed_in.post(
            "/oauth/token/",
            {**exchange, "code": code, "code_verifier": VERIFIER},
            HTTP_AUTHORIZATION=_basic(other.client_id, other.client_secret),
        ),
        400,
        "invalid_grant",
    )
    # Wrong redirect URI
    _error(
        signed_in.post(
            "/oauth/token/",
            {
                **exchange,
                "code": code,
                "code_verifier": VERIFIER,
                "redirect_uri": "https://evil.example/cb",
            },
            HTTP_AUTHORIZATION=auth,
        ),
        400,
        "invalid_request",
    )
    # Wrong PKCE verifier
    _error(
        signed_in.post(
            "/oauth/token/",
            {**exchange, "code": code, "code_verifier": "w" * 64},
            HTTP_AUTHORIZATION=auth,
        ),
        400,
        "invalid_grant",
    )
    # Missing verifier for a code issued with a challenge
    code = _code(signed_in, web)
    _error(
        signed_in.post("/oauth/token/", {**exchange, "code": code}, HTTP_AUTHORIZATION=auth),
        400,
        "invalid_request",
    )
    # Right one works once, then the code is spent.
    code = _code(signed_in, web)
    good = {**exchange, "code": code, "code_verifier": VERIFIER}
    assert signed_in.post("/oauth/token/", good, HTTP_AUTHORIZATION=auth).status_code == 200
    _error(signed_in.post("/oauth/token/", good, HTTP_AUTHORIZATION=auth), 400, "invalid_grant")


def test_plain_pkce_is_refused(signed_in: Client) -> None:
    web = helpers.web_client(confidential=False, skip_authorization=True)
    response = signed_in.get(
        "/oauth/authorize/",
        {
            "client_id": web.client_id,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": helpers.RP_CALLBACK,
            "code_challenge": VERIFIER,
            "code_challenge_method": "plain",
        },
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_request"]


def test_authorize_never_redirects_to_an_unregistered_uri(signed_in: Client) -> None:
    web = helpers.web_client()
    base = {"client_id": web.client_id, "response_type": "code", "scope": "openid"}
    for params in (
        {**base, "redirect_uri": "https://evil.example/cb"},
        {**base, "client_id": "unknown", "redirect_uri": helpers.RP_CALLBACK},
        {"response_type": "code"},
    ):
        response = signed_in.get("/oauth/authorize/", params)
        assert response.status_code == 400
        assert "授权请求无效" in response.content.decode()
        assert "evil.example" not in response.get("Location", "")


def test_scope_outside_the_client_policy_is_refused(signed_in: Client) -> None:
    web = helpers.web_client(scopes=["openid", "profile"])
    response = signed_in.get(
        "/oauth/authorize/",
        {
            "client_id": web.client_id,
            "response_type": "code",
            "scope": "openid phone",
            "redirect_uri": helpers.RP_CALLBACK,
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        },
    )
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == ["invalid_scope"]


def test_refusing_consent_returns_access_denied(signed_in: Client) -> None:
    web = helpers.web_client()
    params = {
        "client_id": web.client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": helpers.RP_CALLBACK,
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "state": "s",
    }
    page = signed_in.get("/oauth/authorize/", params)
    form = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    response = signed_in.post("/oauth/authorize/", form)  # no "allow"
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["s"]


def test_revocation_and_introspection(client: Client) -> None:
    machine = helpers.machine_client()
    auth = _basic(machine.client_id, machine.client_secret)
    token = client.post(
        "/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=auth
    ).json()["access_token"]
    inspector = helpers.machine_client(scopes=["introspection"])
    inspect_auth = _basic(inspector.client_id, inspector.client_secret)
    active = client.post("/oauth/introspect/", {"token": token}, HTTP_AUTHORIZATION=inspect_auth)
    assert active.status_code == 200
    assert active.json()["active"] is True
    assert active.json()["client_id"] == machine.client_id
    refused = client.post("/oauth/introspect/", {"token": token})
    _error(refused, 401, "invalid_client")
    assert (
        client.post("/oauth/revoke/", {"token": token}, HTTP_AUTHORIZATION=auth).status_code == 200
    )
    gone = client.post("/oauth/introspect/", {"token": token}, HTTP_AUTHORIZATION=inspect_auth)
    assert gone.json() == {"active": False}
    _error(client.post("/oauth/revoke/", {"token": token}), 401, "invalid_client")


def test_userinfo_errors(client: Client) -> None:
    response = client.get("/oauth/userinfo/")
    assert response.status_code == 401
    assert "Bearer" in response["WWW-Authenticate"]
    _error(client.get("/oauth/userinfo/", HTTP_AUTHORIZATION="Bearer nope"), 401, "invalid_token")


# --- hostile input: no endpoint answers 500 ---------------------------------------------------

HOSTILE = [
    "",
    "0",
    "-1",
    "null",
    "[]",
    "{}",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "'; DROP TABLE oauth2_provider_application; --",
    "中文参数",
    "𠀀" * 40,
    "a" * 5000,
    "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.",
    "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    "a.b.c",
    "Basic Og==",
    "\udcff",
    "openid openid registry.population.verify",
    "https://evil.example/cb",
    "javascript:alert(1)",
]

PARAMS = [
    "client_id",
    "client_secret",
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "code_challenge",
    "code_challenge_method",
    "refresh_token",
    "scope",
    "response_type",
    "state",
    "nonce",
    "prompt",
    "token",
    "token_type_hint",
    "id_token_hint",
    "post_logout_redirect_uri",
    "claims",
    "resource",
    "approval_prompt",
    "next",
    "error",
    "allow",
]

ENDPOINTS = [
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/oauth/jwks/",
    "/oauth/authorize/",
    "/oauth/token/",
    "/oauth/revoke/",
    "/oauth/introspect/",
    "/oauth/userinfo/",
    "/oauth/logout/",
    "/sso/federation/link",
    "/sso/federation/self/start",
    "/sso/federation/self/callback",
    "/sso/federation/unknown/start",
]

JSON_ENDPOINTS = {"/oauth/token/", "/oauth/revoke/", "/oauth/introspect/", "/oauth/userinfo/"}


def _safe(value: str) -> str:
    # The test client encodes text itself; a lone surrogate cannot be encoded at all.
    return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _check(response: Any, method: str, path: str, detail: Any) -> None:
    status = response.status_code
    if path.endswith("/start") and status == 502:
        # The provider of this test is unreachable on purpose: a gateway error, not a crash.
        assert "sso.federation.provider_unavailable" in response.content.decode()
        return
    assert status < 500, (method, path, detail, response.content[:300])
    if path in JSON_ENDPOINTS and status >= 400 and status != 405 and method != "HEAD":
        body = response.json()
        assert {"code", "message", "details"} <= set(body), (path, detail, body)
        # Protocol errors speak RFC 6749 too; the platform's own NUL guard answers first.
        assert "error" in body or body["code"].startswith("request."), (path, detail, body)


#: Endpoints that behave differently for a signed-in person.
SESSION_ENDPOINTS = {"/oauth/authorize/", "/oauth/logout/", "/sso/federation/link"}
#: Values also tried in each parameter alone (the others travel all together).
SINGLE = ["", "中文参数", "a" * 5000]


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [(path, False) for path in ENDPOINTS] + [(path, True) for path in sorted(SESSION_ENDPOINTS)],
)
def test_hostile_inputs_never_give_500(client: Client, path: str, signed_in: bool) -> None:
    helpers.web_client()
    machine = helpers.machine_client()
    ExternalProvider.objects.create(
        slug="self", name="自身", issuer="http://127.0.0.1:9/", client_id="x", client_secret="y"
    )
    if signed_in:
        client.force_login(helpers.person())
    for value in HOSTILE:
        text = _safe(value)
        every = dict.fromkeys(PARAMS, text)
        _check(client.get(path, every), "GET", path, value)
        _check(client.post(path, every), "POST", path, value)
        for header in (f"Bearer {text}", f"Basic {text}", _basic(machine.client_id, text)):
            _check(client.post(path, {}, HTTP_AUTHORIZATION=header), "POST", path, header)
        _check(client.get(path, {}, HTTP_AUTHORIZATION=f"Bearer {text}"), "GET", path, value)
    for value, name in itertools.product(SINGLE, PARAMS):
        _check(client.get(path, {name: value}), "GET", path, (name, value))
        _check(client.post(path, {name: value}), "POST", path, (name, value))
    for method in ("put", "patch", "delete", "options", "head"):
        _check(getattr(client, method)(path), method.upper(), path, "method")
    for body in ("{not json", json.dumps({"grant_type": "client_credentials"}), "\x00", "a=%zz"):
        for content_type in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
            _check(
                client.generic("POST", path, body, content_type=content_type), "POST", path, body
            )


def test_grant_type_combinations_never_give_500(client: Client) -> None:
    machine = helpers.machine_client()
    web = helpers.web_client()
    grants = ["authorization_code", "refresh_token", "client_credentials", "password", "implicit"]
    for grant, who, value in itertools.product(grants, (machine, web), HOSTILE[:12]):
        text = _safe(value)
        body = {"grant_type": grant, **dict.fromkeys(PARAMS[3:11], text)}
        response = client.post(
            "/oauth/token/", body, HTTP_AUTHORIZATION=_basic(who.client_id, who.client_secret)
        )
        _check(response, "POST", "/oauth/token/", (grant, value))
        assert response.status_code in {400, 401}
