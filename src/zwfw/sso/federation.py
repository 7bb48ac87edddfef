"""Signing in through another platform's OpenID Connect provider (统分 / 分建 modes).

The node acts as a relying party with authlib's Django client: discovery, PKCE (S256), state
and nonce in the session, and the ID token checked against the provider's published JWKS
(signature, ``iss``, ``aud``, ``exp``, ``nonce``). A subject already bound to a local account
signs that account in; an unknown one waits in the session for the identity pages to link it
to an existing account or to register a new one (``services.pending_federated_claims`` /
``services.link_federated_identity``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App, OAuth
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from joserfc.errors import JoseError

from zwfw.core.errors import ZwfwError
from zwfw.sso import services
from zwfw.sso.models import ExternalProvider, FederatedIdentity

log = logging.getLogger(__name__)

NEXT_SESSION_KEY = "zwfw_federation_next"
METADATA_MAX_AGE = 3600.0
HTTP_TIMEOUT = 10

_clients: dict[tuple[int, str], DjangoOAuth2App] = {}


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be fetched or does not match it."""


def oidc_client(provider: ExternalProvider) -> DjangoOAuth2App:
    """authlib client for ``provider``, with its discovery document loaded and checked.

    Clients are cached per process until the provider is edited or its metadata is an hour
    old (keys rotate; authlib also refetches the JWKS when it meets an unknown key id).
    """
    key = (provider.pk, provider.updated_at.isoformat())
    client = _clients.get(key)
    if (
        client is None
        or time.time() - client.server_metadata.get("_loaded_at", 0) > METADATA_MAX_AGE
    ):
        for stale in [k for k in list(_clients) if k[0] == provider.pk]:
            _clients.pop(stale, None)  # another request thread may have dropped it already
        client = OAuth().register(
            name=_client_name(provider),
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": provider.scopes,
                "code_challenge_method": "S256",
                "timeout": HTTP_TIMEOUT,
            },
        )
        try:
            metadata = client.load_server_metadata()
        except (requests.RequestException, ValueError) as error:
            raise ProviderUnavailable(str(error)) from None
        # Mix-up defence: the document must name the issuer we trust (OIDC Discovery §4.3).
        if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
            raise ProviderUnavailable(f"issuer mismatch: {metadata.get('issuer')!r}")
        _clients[key] = client
    return client


def _provider(slug: str) -> ExternalProvider:
    provider = ExternalProvider.objects.filter(slug=slug, enabled=True).first()
    if provider is None:
        raise Http404("no such provider")
    return provider


def _error(request: HttpRequest, code: str, message: str, status: int) -> HttpResponse:
    return render(
        request, "sso/federation_error.html", {"code": code, "message": message}, status=status
    )


def _unavailable(
    request: HttpRequest, provider: ExternalProvider, error: Exception
) -> HttpResponse:
    log.warning("federation provider %s unavailable: %s", provider.slug, error)
    return _error(
        request,
        "sso.federation.provider_unavailable",
        f"暂时无法连接{provider.name}的统一身份认证，请稍后再试。",
        502,
    )


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return "/"


def _client_name(provider: ExternalProvider) -> str:
    return f"zwfw-{provider.slug}"


def _expected_state(request: HttpRequest, provider: ExternalProvider, state: str) -> bool:
    """Whether this session started a sign-in with ``state`` (authlib keeps it there)."""
    if not state or len(state) > 200:
        return False
    integration = DjangoIntegration(_client_name(provider))
    return integration.get_state_data(request.session, state) is not None


def _failed(request: HttpRequest, provider: ExternalProvider) -> HttpResponse:
    return _error(
        request,
        "sso.federation.failed",
        f"{provider.name}的登录结果无效或已过期，请重新登录。",
        400,
    )


@require_http_methods(["GET"])
def start(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the browser to the provider's authorization endpoint."""
    provider = _provider(slug)
    try:
        client = oidc_client(provider)
        redirect_uri = request.build_absolute_uri(reverse("sso:federation-callback", args=[slug]))
        response = client.authorize_redirect(request, redirect_uri)
    except (
        ProviderUnavailable,
        requests.RequestException,
        AuthlibBaseError,
        RuntimeError,
    ) as error:
        return _unavailable(request, provider, error)
    request.session[NEXT_SESSION_KEY] = _safe_next(request, request.GET.get("next"))
    return response


def _verified_claims(
    request: HttpRequest, provider: ExternalProvider
) -> dict[str, Any] | HttpResponse:
    """The provider's verified ID-token claims, or the page explaining why there are none."""
    state = request.GET.get("state", "")
    if request.GET.get("error") or not _expected_state(request, provider, state):
        # Refused at the provider, replayed, or forged: answered without contacting anyone.
        return _failed(request, provider)
    try:
        token = oidc_client(provider).authorize_access_token(request)
    except (ProviderUnavailable, requests.RequestException) as error:
        return _unavailable(request, provider, error)
    except (AuthlibBaseError, JoseError, ValueError, KeyError, TypeError) as error:
        log.info("federation callback from %s refused: %r", provider.slug, error)
        return _failed(request, provider)
    claims = token.get("userinfo")
    if not claims or not isinstance(claims.get("sub"), str) or not claims["sub"]:
        return _failed(request, provider)
    return dict(claims)


@require_http_methods(["GET"])
def callback(request: HttpRequest, slug: str) -> HttpResponse:
    """Redeem the code, verify the ID token, then sign in or ask to link."""
    provider = _provider(slug)
    claims = _verified_claims(request, provider)
    if isinstance(claims, HttpResponse):
        return claims
    identity = (
        FederatedIdentity.objects.select_related("user", "provider")
        .filter(provider=provider, subject=claims["sub"])
        .first()
    )
    next_url = request.session.pop(NEXT_SESSION_KEY, "/")
    if identity is not None:
        if not identity.user.is_active:
            return _error(request, "sso.federation.account_disabled", "对应的本地账号已停用。", 403)
        services.sign_in_federated(request, identity)
        return HttpResponseRedirect(_safe_next(request, next_url))
    services.remember_pending_identity(request, provider, claims)
    request.session[NEXT_SESSION_KEY] = next_url
    return HttpResponseRedirect(reverse("sso:federation-link"))


def _registration_url() -> str | None:
    for name in ("identity:register", "register"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


@require_http_methods(["GET", "POST"])
def link(request: HttpRequest) -> HttpResponse:
    """The link-or-register step: bind to the signed-in account, or go sign in / register.

    Creating a new account from the pending claims belongs to the identity pages; they call
    ``services.pending_federated_claims`` and ``services.link_federated_identity``.
    """
    pending = services.pending_federated_claims(request)
    context: dict[str, Any] = {"pending": pending, "registration_url": _registration_url()}
    if pending is not None and request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        try:
            services.link_federated_identity(request.user, request)
        except ZwfwError as error:
            context.update(error_code=error.code, error_message=error.message)
            return render(request, "sso/federation_link.html", context, status=error.http_status)
        return HttpResponseRedirect(_safe_next(request, request.session.pop(NEXT_SESSION_KEY, "/")))
    if request.method == "POST":
        context.update(
            error_code="sso.federation.nothing_pending",
            error_message="没有待绑定的外部账号，或已超时，请重新通过外部平台登录。",
        )
        return render(request, "sso/federation_link.html", context, status=400)
    context["login_url"] = f"{reverse_login()}?next={reverse('sso:federation-link')}"
    return render(request, "sso/federation_link.html", context)


def reverse_login() -> str:
    return str(resolve_url(settings.LOGIN_URL))
