"""Who is calling the registries API: ``Authorization: Bearer <token>`` → a :class:`Caller`.

The resolvers of :data:`RESOLVERS` are tried in turn:

1. :func:`api_key_caller` — a per-consumer API key (``zrk_…``, issued by
   ``zwfw create_registry_consumer``), stored as its SM3 hash. The consumer's grants decide.
2. :func:`oidc_client_caller` — an access token of the node's OpenID Connect provider
   (``zwfw.sso``, django-oauth-toolkit), when that app is installed: a client-credentials token
   (no user; expired, revoked and person tokens are refused by ``zwfw.sso.tokens``) of an
   application whose ``client_id`` equals a consumer's ``Consumer.client_id`` authenticates
   that consumer. Two layers then apply: the token must carry the OAuth scope
   ``registry.<registry>.<mode>`` (what the administrator allowed the client to ask for, see
   :func:`register_oauth_scopes`), and the consumer's grants decide the fields.

Another scheme (mutual TLS, a federation token …) is one more resolver appended to the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from ninja.security import HttpBearer

from zwfw.registries import services
from zwfw.registries.models import Consumer, Mode

MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class Caller:
    """An authenticated consumer; ``token_scopes`` is None for an API key (grants only)."""

    consumer: Consumer
    token_scopes: frozenset[str] | None = None
    via: str = "api_key"

    def token_allows(self, registry: str, mode: str) -> bool:
        return self.token_scopes is None or oauth_scope(registry, mode) in self.token_scopes


def oauth_scope(registry: str, mode: str) -> str:
    """The OAuth scope a client-credentials token needs for a mode of a registry."""
    return f"registry.{registry}.{mode}"


def _bearer_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    if not token.isascii() or not token.isprintable():
        return None
    return token


def api_key_caller(request: HttpRequest) -> Caller | None:
    """The consumer holding the request's API key."""
    token = _bearer_token(request)
    if token is None or not token.startswith(services.API_KEY_PREFIX):
        return None
    consumer = services.consumer_for_api_key(token)
    return Caller(consumer) if consumer is not None else None


def oidc_client_caller(request: HttpRequest) -> Caller | None:
    """The consumer of the OIDC client whose client-credentials token the request carries."""
    if not apps.is_installed("zwfw.sso"):
        return None
    from zwfw.sso.tokens import client_for_bearer

    if _bearer_token(request) is None:
        return None
    found = client_for_bearer(request)
    if found is None:
        return None
    client_id, scopes = found
    consumer = services.consumer_for_client_id(client_id)
    return Caller(consumer, frozenset(scopes), via="oidc") if consumer is not None else None


RESOLVERS: list[Callable[[HttpRequest], Caller | None]] = [api_key_caller, oidc_client_caller]


def resolve_caller(request: HttpRequest) -> Caller | None:
    """The authenticated caller of a request, or None (→ 401)."""
    for resolver in RESOLVERS:
        caller = resolver(request)
        if caller is not None:
            return caller
    return None


def resolve_consumer(request: HttpRequest) -> Consumer | None:
    """The consumer a request authenticates as, or None."""
    caller = resolve_caller(request)
    return caller.consumer if caller is not None else None


class ConsumerBearer(HttpBearer):
    """ninja authentication for the registries API (documented as HTTP bearer)."""

    def __call__(self, request: HttpRequest) -> Any:
        return resolve_caller(request)

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        # Not reached: __call__ reads the header itself (one parser for every scheme).
        return None


def register_oauth_scopes() -> None:
    """Declare ``registry.<registry>.<mode>`` machine scopes with the OIDC provider."""
    if not apps.is_installed("zwfw.sso"):
        return
    from zwfw.registries.schema import REGISTRIES
    from zwfw.sso.scopes import SCOPES, register_scope

    for code, spec in REGISTRIES.items():
        for mode in Mode:
            name = oauth_scope(code, mode.value)
            if name not in SCOPES:  # an earlier declaration (the provider's own) stands
                register_scope(name, f"{spec.label}{mode.label}", machine=True)
