"""Bearer access tokens of machine clients, for other apps' APIs.

Usage in an API (for example the base registries)::

    from zwfw.sso.tokens import client_for_bearer

    found = client_for_bearer(request)
    if found is None or "registry.population.verify" not in found[1]:
        ...  # 401 / 403
    client_id, scopes = found
    with context.bind(actor=f"client:{client_id}"):
        ...  # audited work on the client's behalf
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils import timezone
from oauth2_provider.models import get_access_token_model

AccessToken = get_access_token_model()

#: Longest token accepted; the toolkit issues 30 characters, and a longer header is refused
#: before it is hashed.
MAX_TOKEN_LENGTH = 512


def bearer_token(request: Any) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def client_for_bearer(request: Any) -> tuple[str, frozenset[str]] | None:
    """``(client_id, scopes)`` of the machine access token the request carries, else None.

    None for: no or malformed ``Authorization: Bearer`` header, unknown, expired or revoked
    tokens (revoking deletes them), and tokens issued to a person (authorization-code tokens
    act for that person, not for the client; they are not accepted as machine credentials).
    One indexed query.
    """
    token = bearer_token(request)
    if token is None:
        return None
    checksum = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    row = (
        AccessToken.objects.filter(
            token_checksum=checksum, expires__gt=timezone.now(), user__isnull=True
        )
        .values_list("application__client_id", "scope")
        .first()
    )
    if row is None or row[0] is None:
        return None
    client_id, scope = row
    return client_id, frozenset(scope.split())
