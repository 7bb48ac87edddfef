"""The provider driven end to end by a real OIDC client library (authlib) over HTTP.

Everything a relying party does: discovery, authorization code with PKCE (S256), the ID token
verified against the published JWKS (signature, iss, aud, nonce, at_hash), userinfo, refresh
token rotation, client credentials, RP-initiated logout.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from joserfc import jwt
from joserfc.jwk import KeySet

from zwfw.core.models import AuditRecord
from zwfw.sso.models import SubjectIdentifier
from zwfw.sso.tests import helpers

pytestmark = pytest.mark.django_db(transaction=True)

PERSON_SCOPES = "openid profile phone zwfw.realname"


def _metadata(base_url: str) -> dict[str, Any]:
    response = requests.get(f"{base_url}/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    return response.json()


def _verify_id_token(
    id_token: str, metadata: dict[str, Any], client_id: str, nonce: str, access_token: str
) -> dict[str, Any]:
    """Verify like a relying party: with the JWKS the provider publishes, nothing else."""
    jwks = requests.get(metadata["jwks_uri"], timeout=10).json()
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] in {key["kid"] for key in jwks["keys"]}
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
    ).validate(token.claims)
    digest = hashlib.sha256(access_token.encode()).digest()
    expected = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert token.claims["at_hash"] == expected
    return token.claims


def _sign_in(
    live_server: Any,
    user: Any,
    *,
    scope: str = PERSON_SCOPES,
    confidential: bool = True,
    session_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One authorization-code + PKCE sign-in; returns what the relying party ends up with."""
    base = live_server.url
    metadata = _metadata(base)
    created = helpers.web_client(confidential=confidential)
    rp = helpers.relying_party(
        created.client_id,
        created.client_secret or None,
        scope=scope,
        redirect_uri=helpers.RP_CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if confidential else "none",
    )
    code_verifier, nonce = generate_token(48), generate_token(20)
    url, state = rp.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce
    )
    browser = helpers.browser("localhost", user, **(session_data or {}))
    consent = browser.get(url, allow_redirects=False)
    assert consent.status_code == 200, consent.text[:500]
    assert "同意并登录" in consent.text
    redirect = helpers.approve(browser, consent)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(helpers.RP_CALLBACK + "?")
    assert parse_qs(urlsplit(location).query)["iss"] == [metadata["issuer"]]  # RFC 9207
    token = rp.fetch_token(
        metadata["token_endpoint"],
        authorization_response=location,
        state=state,
        code_verifier=code_verifier,
    )
    claims = _verify_id_token(
        token["id_token"], metadata, created.client_id, nonce, token["access_token"]
    )
    return {
        "metadata": metadata,
        "client": created,
        "rp": rp,
        "token": token,
        "claims": claims,
        "browser": browser,
    }


def test_person_signs_in_with_pkce_and_the_id_token_verifies(live_server: Any) -> None:
    user = helpers.person()
    flow = _sign_in(live_server, user)
    claims = flow["claims"]
    sub = SubjectIdentifier.objects.get(user=user).sub
    assert claims["sub"] == sub
    assert sub != str(user.pk)
    assert "110101199003074514" not in str(claims)
    assert claims["name"] == "张三"
    assert claims["zwfw_subject_kind"] == "person"
    assert claims["zwfw_trust_level"] == "L3"
    assert claims["phone_number"] == "+8613812345678"
    assert "zwfw_acting_for" not in claims

    userinfo = flow["rp"].get(flow["metadata"]["userinfo_endpoint"]).json()
    assert userinfo == {
        "sub": sub,
        "name": "张三",
        "preferred_username": "p0001",
        "zwfw_subject_kind": "person",
        "zwfw_phone_masked": "138****5678",
        "phone_number": "+8613812345678",
        "zwfw_trust_level": "L3",
    }
    # The full phone number left the platform twice (ID token, userinfo): both audited.
    reads = AuditRecord.objects.filter(action="identity:user:read", object_id=str(user.pk))
    assert reads.count() == 2
    assert {r.after["client_id"] for r in reads} == {flow["client"].client_id}
    assert {r.actor for r in reads} == {f"client:{flow['client'].client_id}"}
    assert AuditRecord.objects.filter(
        action="sso:authorization:issue",
        object_id=flow["client"].client_id,
        actor=f"user:{user.pk}",
    ).exists()


def test_public_client_without_phone_scope_sees_a_masked_phone_only(live_server: Any) -> None:
    user = helpers.person("p0002")
    flow = _sign_in(live_server, user, scope="openid profile", confidential=False)
    claims = flow["claims"]
    assert "refresh_token" in flow["token"]
    assert claims["zwfw_phone_masked"] == "138****5678"
    assert "phone_number" not in claims
    assert "zwfw_trust_level" not in claims  # zwfw.realname not asked for
    userinfo = flow["rp"].get(flow["metadata"]["userinfo_endpoint"]).json()
    assert set(userinfo) == {
        "sub",
        "name",
        "preferred_username",
        "zwfw_subject_kind",
        "zwfw_phone_masked",
    }
    assert not AuditRecord.objects.filter(action="identity:user:read").exists()


def test_staff_user_claims(live_server: Any) -> None:
    user = helpers.staff()
    flow = _sign_in(live_server, user)
    userinfo = flow["rp"].get(flow["metadata"]["userinfo_endpoint"]).json()
    assert userinfo == {
        "sub": flow["claims"]["sub"],
        "name": "李四",
        "preferred_username": "s-rsj-01",
        "zwfw_subject_kind": "staff",
        "zwfw_trust_level": "L4",
    }


def test_acting_for_a_company_reaches_id_token_userinfo_and_refreshed_tokens(
    live_server: Any,
) -> None:
    user = helpers.person("p0003", phone="13900001111")
    acting = helpers.acting_for_company(user)
    flow = _sign_in(live_server, user, session_data={"zwfw_acting_for": acting})
    assert flow["claims"]["zwfw_acting_for"] == acting
    endpoint = flow["metadata"]["userinfo_endpoint"]
    assert flow["rp"].get(endpoint).json()["zwfw_acting_for"] == acting
    refreshed = flow["rp"].refresh_token(
        flow["metadata"]["token_endpoint"], refresh_token=flow["token"]["refresh_token"]
    )
    assert flow["rp"].get(endpoint).json()["zwfw_acting_for"] == acting
    refreshed_claims = jwt.decode(
        refreshed["id_token"],
        KeySet.import_key_set(requests.get(flow["metadata"]["jwks_uri"], timeout=10).json()),
    ).claims
    assert refreshed_claims["zwfw_acting_for"] == acting


def test_malformed_acting_for_in_session_is_ignored(live_server: Any) -> None:
    user = helpers.person("p0004", phone="13900002222")
    flow = _sign_in(live_server, user, session_data={"zwfw_acting_for": {"name": "无代码公司"}})
    assert "zwfw_acting_for" not in flow["claims"]


def test_refresh_tokens_rotate_and_a_replayed_one_revokes_the_family(live_server: Any) -> None:
    user = helpers.person("p0005", phone="13900003333")
    flow = _sign_in(live_server, user)
    token_endpoint = flow["metadata"]["token_endpoint"]
    first_refresh = flow["token"]["refresh_token"]
    second = flow["rp"].refresh_token(token_endpoint, refresh_token=first_refresh)
    assert second["refresh_token"] != first_refresh
    assert second["access_token"] != flow["token"]["access_token"]
    # The old access token died with the rotation.
    old = requests.get(
        flow["metadata"]["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {flow['token']['access_token']}"},
        timeout=10,
    )
    assert old.status_code == 401
    with pytest.raises(OAuthError, match="invalid_grant"):
        flow["rp"].refresh_token(token_endpoint, refresh_token=first_refresh)
    # Replay detection revoked the whole family, the current refresh token included.
    with pytest.raises(OAuthError, match="invalid_grant"):
        flow["rp"].refresh_token(token_endpoint, refresh_token=second["refresh_token"])


def test_pkce_verifier_mismatch_is_invalid_grant(live_server: Any) -> None:
    base = live_server.url
    metadata = _metadata(base)
    created = helpers.web_client(confidential=False)
    rp = helpers.relying_party(
        created.client_id,
        None,
        scope="openid",
        redirect_uri=helpers.RP_CALLBACK,
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    url, state = rp.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=generate_token(48), nonce="n-1"
    )
    browser = helpers.browser("localhost", helpers.person("p0006", phone="13900004444"))
    location = helpers.approve(browser, browser.get(url)).headers["Location"]
    with pytest.raises(OAuthError, match="invalid_grant"):
        rp.fetch_token(
            metadata["token_endpoint"],
            authorization_response=location,
            state=state,
            code_verifier=generate_token(48),
        )


def test_public_client_must_use_pkce(live_server: Any) -> None:
    metadata = _metadata(live_server.url)
    created = helpers.web_client(confidential=False)
    rp = helpers.relying_party(
        created.client_id, None, scope="openid", redirect_uri=helpers.RP_CALLBACK
    )
    url, _ = rp.create_authorization_url(metadata["authorization_endpoint"], nonce="n-2")
    browser = helpers.browser("localhost", helpers.person("p0007", phone="13900005555"))
    response = browser.get(url, allow_redirects=False)
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]


def test_client_credentials_for_a_machine(live_server: Any) -> None:
    metadata = _metadata(live_server.url)
    created = helpers.machine_client()
    machine = helpers.relying_party(
        created.client_id, created.client_secret, scope="registry.population.verify"
    )
    token = machine.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "registry.population.verify"
    assert "refresh_token" not in token
    assert "id_token" not in token
    issued = AuditRecord.objects.get(action="sso:token:issue")
    assert issued.actor == f"client:{created.client_id}"
    assert issued.after == {"grant": "client_credentials", "scope": "registry.population.verify"}
    # A machine token is no person: userinfo refuses it.
    refused = requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert refused.status_code in {401, 403}
    # A scope the client was not granted is refused.
    greedy = helpers.relying_party(
        created.client_id, created.client_secret, scope="registry.legal_entity.verify"
    )
    with pytest.raises(OAuthError, match="invalid_scope"):
        greedy.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")


def test_rp_initiated_logout_ends_the_platform_session(live_server: Any) -> None:
    user = helpers.person("p0008", phone="13900006666")
    flow = _sign_in(live_server, user)
    browser = flow["browser"]
    logout = browser.get(
        flow["metadata"]["end_session_endpoint"],
        params={
            "id_token_hint": flow["token"]["id_token"],
            "post_logout_redirect_uri": helpers.RP_LOGGED_OUT,
            "state": "s-1",
        },
        allow_redirects=False,
    )
    assert logout.status_code == 302
    assert logout.headers["Location"] == helpers.RP_LOGGED_OUT + "?state=s-1"
    # The platform session is gone: authorizing again asks for a sign-in.
    again = browser.get(
        flow["rp"].create_authorization_url(
            flow["metadata"]["authorization_endpoint"], code_verifier=generate_token(48)
        )[0],
        allow_redirects=False,
    )
    assert again.status_code == 302
    assert "/login/" in again.headers["Location"]
    # …and the tokens issued in it were revoked.
    stale = requests.get(
        flow["metadata"]["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {flow['token']['access_token']}"},
        timeout=10,
    )
    assert stale.status_code == 401
    assert AuditRecord.objects.filter(action="sso:session:end", object_id=str(user.pk)).exists()
