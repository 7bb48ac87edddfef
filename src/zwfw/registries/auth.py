"""Who is calling the registries API: ``Authorization: Bearer <token>`` → a :class:`Consumer`.

Tokens are tried against each resolver of :data:`TOKEN_RESOLVERS` in turn:

1. :func:`api_key_consumer` — a per-consumer API key (``zrk_…``, issued by
   ``zwfw create_registry_consumer``), stored as its SM3 hash;
2. :func:`oidc_client_consumer` — **the OIDC hook**: an access token of the platform's OpenID
   Connect provider (django-oauth-toolkit). Active only when ``oauth2_provider`` is in
   ``INSTALLED_APPS``: the token's checksum is looked up in ``AccessToken``; an unexpired
   client-credentials token (no user) of an application whose ``client_id`` equals a
   consumer's ``Consumer.client_id`` authenticates that consumer. Tokens issued to a client on
   behalf of a signed-in person are not accepted here: the grants belong to the system, and a
   person's token must not widen what the person may see.

Another scheme (mutual TLS, a federation token …) is one more resolver appended to the list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from zwfw.registries import services
from zwfw.registries.models import Consumer

TokenResolver = Callable[[str], Consumer | None]
MAX_TOKEN_LENGTH = 512


def api_key_consumer(token: str) -> Consumer | None:
    """The consumer holding this API key."""
    if not token.startswith(services.API_KEY_PREFIX):
        return None
    return services.consumer_for_api_key(token)


def oidc_client_consumer(token: str) -> Consumer | None:
    """The consumer of the OIDC client that obtained this client-credentials access token."""
    if not apps.is_installed("oauth2_provider"):
        return None
    from oauth2_provider.models import get_access_token_model

    access_token = (
        get_access_token_model()
        .objects.select_related("application")
        .filter(token_checksum=hashlib.sha256(token.encode()).hexdigest())
        .first()
    )
    if access_token is None or access_token.user_id is not None:
        return None
    if access_token.expires <= timezone.now() or access_token.application is None:
        return None
    return services.consumer_for_client_id(access_token.application.client_id)


TOKEN_RESOLVERS: list[TokenResolver] = [api_key_consumer, oidc_client_consumer]


def _bearer_token(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def resolve_consumer(request: HttpRequest) -> Consumer | None:
    """The consumer a request authenticates as, or None (→ 401)."""
    token = _bearer_token(request)
    if token is None or not token.isascii() or not token.isprintable():
        return None
    for resolver in TOKEN_RESOLVERS:
        consumer = resolver(token)
        if consumer is not None:
            return consumer
    return None


class ConsumerBearer(HttpBearer):
    """ninja authentication for the registries API (documented as HTTP bearer)."""

    def __call__(self, request: HttpRequest) -> Any:
        return resolve_consumer(request)

    def authenticate(self, request: HttpRequest, token: str) -> Any:  # pragma: no cover
        # Not reached: __call__ reads the header itself (one parser for API and other callers).
        return None
