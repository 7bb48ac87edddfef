"""Federation against a real OpenID Connect provider: this very platform.

The live server plays both parts: ``http://localhost:<port>`` is the trusted provider (its
own OIDC endpoints) and ``http://127.0.0.1:<port>`` the relying node, so the browser keeps a
separate session for each, as it would for two platforms. Nothing of the protocol is mocked:
discovery, PKCE, state, nonce and the ID-token signature are checked by authlib over HTTP.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpRequest

from zwfw.core.errors import Conflict, ValidationError
from zwfw.core.models import AuditRecord
from zwfw.identity.models import TrustLevel
from zwfw.sso import federation, services
from zwfw.sso.models import ExternalProvider, FederatedIdentity, SubjectIdentifier
from zwfw.sso.tests import helpers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def provider(live_server: Any) -> ExternalProvider:
    port = urlsplit(live_server.url).port
    federation._clients.clear()
    created = services.create_client(
        name="本平台（作为外部身份提供方）",
        redirect_uris=[f"http://127.0.0.1:{port}/sso/federation/self/callback"],
        confidential=True,
        scopes=["openid", "profile", "phone", "zwfw.realname"],
    )
    return ExternalProvider.objects.create(
        slug="self",
        name="省统一身份认证平台",
        issuer=live_server.url,
        client_id=created.client_id,
        client_secret=created.client_secret,
        scopes="openid profile phone zwfw.realname",
        account_mode=ExternalProvider.AccountMode.UNIFIED,
        max_trust_level=TrustLevel.REGISTRY_MATCHED,
    )


def _rp_session(browser: requests.Session, rp: str) -> SessionStore:
    key = browser.cookies.get("sessionid", domain=urlsplit(rp).hostname)
    return SessionStore(session_key=key)


def _federated_sign_in(browser: requests.Session, rp: str) -> requests.Response:
    """Start at the relying node, approve at the provider, come back; the callback's answer."""
    start = browser.get(f"{rp}/sso/federation/self/start?next=/items/", allow_redirects=False)
    assert start.status_code == 302, start.text[:500]
    authorize = start.headers["Location"]
    assert authorize.startswith("http://localhost:")
    assert "code_challenge_method=S256" in authorize
    assert "nonce=" in authorize
    consent = browser.get(authorize, allow_redirects=False)
    # Approved once, the provider does not ask again for the same scopes ("auto" prompt).
    back = helpers.approve(browser, consent) if consent.status_code == 200 else consent
    assert back.status_code == 302
    callback = back.headers["Location"]
    assert callback.startswith(f"{rp}/sso/federation/self/callback?")
    return browser.get(callback, allow_redirects=False)


def test_unknown_subject_waits_for_linking_then_signs_in(
    live_server: Any, provider: ExternalProvider
) -> None:
    rp = live_server.url.replace("localhost", "127.0.0.1")
    upstream = helpers.person("up-0001", trust_level=TrustLevel.IN_PERSON)
    browser = helpers.browser("localhost", upstream)

    answer = _federated_sign_in(browser, rp)
    assert answer.status_code == 302, answer.text[:800]
    assert answer.headers["Location"] == "/sso/federation/link"
    link_page = browser.get(f"{rp}/sso/federation/link")
    assert "省统一身份认证平台" in link_page.text
    assert "张三" in link_page.text

    # What the identity pages see, and how they bind the account they sign in or create.
    session = _rp_session(browser, rp)
    stored = json.dumps(session[services.PENDING_SESSION_KEY], ensure_ascii=False)
    assert "张三" not in stored
    assert "13812345678" not in stored  # the session table holds them encrypted
    request = HttpRequest()
    request.session = session
    pending = services.pending_federated_claims(request)
    assert pending is not None
    upstream_sub = SubjectIdentifier.objects.get(user=upstream).sub
    assert pending["provider"] == "self"
    assert pending["issuer"] == live_server.url
    assert pending["account_mode"] == "unified"
    assert pending["subject"] == upstream_sub
    assert pending["claims"]["name"] == "张三"
    assert pending["claims"]["phone_number"] == "+8613812345678"
    assert pending["claims"]["zwfw_trust_level"] == "L4"
    assert pending["trust_level"] == "L3"  # capped by the provider's max_trust_level

    local = helpers.person("local-0001", phone="13900009999", id_number="")
    identity = services.link_federated_identity(local, request)
    session.save()
    assert (identity.user, identity.provider, identity.subject) == (local, provider, upstream_sub)
    assert services.pending_federated_claims(request) is None
    with pytest.raises(ValidationError, match="nothing_pending"):
        services.link_federated_identity(local, request)
    assert AuditRecord.objects.filter(action="sso:federated_identity:link").count() == 1

    # Next time the provider vouches for the subject, the local account is signed in.
    again = helpers.browser("localhost", upstream)
    answer = _federated_sign_in(again, rp)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/items/"
    assert _rp_session(again, rp).get("_auth_user_id") == str(local.pk)
    login = AuditRecord.objects.get(action="sso:federation:login")
    assert login.object_id == str(local.pk)
    # Finished by the identity app like any sign-in (its audit record, session tracking).
    finished = AuditRecord.objects.get(action="identity:login_success", object_id=str(local.pk))
    assert finished.after == {"method": "federation"}
    assert FederatedIdentity.objects.get().last_login_at is not None


def test_a_subject_links_once(live_server: Any, provider: ExternalProvider) -> None:
    rp = live_server.url.replace("localhost", "127.0.0.1")
    upstream = helpers.person("up-0002", phone="13900008888", id_number="")
    first = helpers.browser("localhost", upstream)
    _federated_sign_in(first, rp)
    second = helpers.browser("localhost", upstream)
    _federated_sign_in(second, rp)
    requests_ = []
    for browser in (first, second):
        request = HttpRequest()
        request.session = _rp_session(browser, rp)
        requests_.append(request)
    services.link_federated_identity(helpers.person("l-1", phone="", id_number=""), requests_[0])
    with pytest.raises(Conflict, match="subject_taken"):
        services.link_federated_identity(
            helpers.person("l-2", phone="", id_number=""), requests_[1]
        )


def test_forged_or_replayed_callbacks_are_refused(
    live_server: Any, provider: ExternalProvider
) -> None:
    rp = live_server.url.replace("localhost", "127.0.0.1")
    upstream = helpers.person("up-0003", phone="13900007777", id_number="")
    browser = helpers.browser("localhost", upstream)
    start = browser.get(f"{rp}/sso/federation/self/start", allow_redirects=False)
    consent = browser.get(start.headers["Location"], allow_redirects=False)
    callback = helpers.approve(browser, consent).headers["Location"]
    forged = callback.replace("state=", "state=x")
    refused = browser.get(forged, allow_redirects=False)
    assert refused.status_code == 400
    assert "sso.federation.failed" in refused.text
    assert browser.get(callback, allow_redirects=False).status_code == 302
    replayed = browser.get(callback, allow_redirects=False)  # state spent, code spent
    assert replayed.status_code == 400
    denied = browser.get(f"{rp}/sso/federation/self/callback?error=access_denied&state=s")
    assert denied.status_code == 400


def test_unreachable_or_mismatched_provider_is_a_gateway_error(
    live_server: Any, provider: ExternalProvider, settings: Any
) -> None:
    rp = live_server.url.replace("localhost", "127.0.0.1")
    ExternalProvider.objects.filter(pk=provider.pk).update(issuer="http://127.0.0.1:9")
    response = requests.get(f"{rp}/sso/federation/self/start", allow_redirects=False, timeout=30)
    assert response.status_code == 502
    assert "sso.federation.provider_unavailable" in response.text
    # The discovery document names another issuer than the one trusted: mix-up defence.
    ExternalProvider.objects.filter(pk=provider.pk).update(issuer=live_server.url)
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_ISS_ENDPOINT": "https://someone-else.example",
    }
    response = requests.get(f"{rp}/sso/federation/self/start", allow_redirects=False, timeout=30)
    assert response.status_code == 502
    disabled = ExternalProvider.objects.filter(pk=provider.pk).update(enabled=False)
    assert disabled == 1
    assert requests.get(f"{rp}/sso/federation/self/start", timeout=30).status_code == 404
