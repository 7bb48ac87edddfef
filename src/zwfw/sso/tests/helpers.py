"""Builders for the single-sign-on tests: accounts, clients, a browser with a session."""

from __future__ import annotations

import html
import re
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.test import Client

from zwfw.identity.models import TrustLevel, User
from zwfw.sso import services

RP_CALLBACK = "https://rs.example.gov.cn/oidc/callback"
RP_LOGGED_OUT = "https://rs.example.gov.cn/logged-out"


def person(username: str = "p0001", **overrides: Any) -> User:
    fields: dict[str, Any] = {
        "kind": User.Kind.PERSON,
        "real_name": "张三",
        "phone": "13812345678",
        "email": "zhangsan@example.cn",
        "id_type": "111",
        "id_number": "110101199003074514",
        "trust_level": TrustLevel.REGISTRY_MATCHED,
    }
    fields.update(overrides)
    return User.objects.create_user(username, password="x-Strong-Pass-1", **fields)


def staff(username: str = "s-rsj-01", **overrides: Any) -> User:
    fields: dict[str, Any] = {
        "kind": User.Kind.STAFF,
        "real_name": "李四",
        "trust_level": TrustLevel.IN_PERSON,
    }
    fields.update(overrides)
    return User.objects.create_user(username, password="x-Strong-Pass-1", **fields)


def acting_for_company(agent: User) -> dict[str, Any]:
    """A company ``agent`` is authorised to act for, as the identity pages put it in the
    session (``zwfw_acting_for``)."""
    import datetime as dt

    from django.utils import timezone

    from zwfw.identity.models import AgentAuthorisation, Company

    representative = person("rep-" + agent.username, phone="", id_number="")
    company = Company.objects.create(
        uscc="91511600MA62XXXX0Y",
        name="广安某某科技有限公司",
        legal_representative=representative,
        verified_via=Company.Source.ONLINE,
        verified_at=timezone.now(),
    )
    today = timezone.localdate()
    authorisation = AgentAuthorisation.objects.create(
        company=company,
        agent=agent,
        all_items=True,
        valid_from=today,
        valid_until=today + dt.timedelta(days=365),
        created_by=representative,
    )
    return {"uscc": company.uscc, "name": company.name, "authorisation_id": authorisation.pk}


def web_client(
    *,
    confidential: bool = True,
    scopes: list[str] | None = None,
    skip_authorization: bool = False,
    redirect_uri: str = RP_CALLBACK,
) -> services.CreatedClient:
    return services.create_client(
        name="人社局业务系统",
        redirect_uris=[redirect_uri],
        post_logout_redirect_uris=[RP_LOGGED_OUT],
        confidential=confidential,
        scopes=scopes or ["openid", "profile", "phone", "zwfw.realname"],
        skip_authorization=skip_authorization,
    )


def machine_client(scopes: list[str] | None = None) -> services.CreatedClient:
    return services.create_client(
        name="人社局核验接口",
        grant=services.GRANT_CLIENT_CREDENTIALS,
        confidential=True,
        scopes=scopes or ["registry.population.verify"],
    )


def session_cookie(user: User, session_data: dict[str, Any] | None = None) -> str:
    """A signed-in session for ``user`` (as the identity pages would leave it)."""
    client = Client()
    client.force_login(user)
    if session_data:
        session = client.session
        session.update(session_data)
        session.save()
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def relying_party(client_id: str, client_secret: str | None, **kwargs: Any) -> OAuth2Session:
    """authlib's OAuth 2.0 / OIDC client session, as a relying party would use it."""
    return OAuth2Session(client_id, client_secret, **kwargs)


def browser(host: str, user: User | None = None, **session_data: Any) -> requests.Session:
    """A requests session standing in for a person's browser on ``host``."""
    session = requests.Session()
    if user is not None:
        # The standard library's cookie jar files a bare "localhost" under "localhost.local".
        domain = "localhost.local" if host == "localhost" else host
        session.cookies.set(
            settings.SESSION_COOKIE_NAME, session_cookie(user, session_data), domain=domain
        )
    return session


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def approve(
    browser_session: requests.Session, consent_page: requests.Response
) -> requests.Response:
    """Press "同意并登录" on the consent page (hidden fields + CSRF), without following."""
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(consent_page.text)}
    fields["allow"] = "on"
    return browser_session.post(
        consent_page.url,
        data=fields,
        headers={"Referer": consent_page.url},
        allow_redirects=False,
    )
