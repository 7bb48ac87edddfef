"""The request validator of the OpenID Connect provider (django-oauth-toolkit hook).

What it adds to the toolkit's validator: the platform's claims (opaque ``sub``, real-name
level, subject kind, agent context), PKCE required for public clients, per-client scopes (via
the scopes backend), the agent context carried from the approving session to the tokens, and
audit records for machine tokens, authorizations and releases of phone numbers.
"""

from __future__ import annotations

import hashlib
from typing import Any

from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator

from zwfw.core import audit
from zwfw.sso.claims import clean_acting_for, person_claims
from zwfw.sso.models import GrantContext, TokenContext
from zwfw.sso.scopes import CLAIM_SCOPES

Application = get_application_model()
AccessToken = get_access_token_model()

_MISSING = object()


def client_actor(client_id: str) -> str:
    """The audit actor of a machine client."""
    return f"client:{client_id}"


class ZwfwOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    # --- hostile input --------------------------------------------------------------------

    def _extract_basic_auth(self, request: Any) -> str | None:
        """The Basic credentials, or None; non-ASCII ones (latin-1 bytes in the header)
        would make the toolkit's base64 decoding raise, so they are no credentials."""
        auth_string: str | None = super()._extract_basic_auth(request)
        if auth_string is not None and not auth_string.isascii():
            return None
        return auth_string

    def _load_application(self, client_id: str, request: Any) -> Any:
        """The client, with its scope policy in the same query (token requests are hot).

        The toolkit's own loader also resolves Client ID Metadata Documents, which this
        platform does not enable; everything else it checks is repeated here.
        """
        cached = request.client
        if isinstance(cached, Application) and cached.client_id == client_id:
            return cached if cached.is_usable(request) else None
        try:
            client = Application.objects.select_related("zwfw_policy").get(client_id=client_id)
        except (Application.DoesNotExist, ValueError):
            # ValueError: PostgreSQL refuses NUL characters before running the query.
            return None
        if not client.is_usable(request):
            return None
        request.client = client
        return client

    # --- policy ------------------------------------------------------------------------------

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        """PKCE for public clients; confidential ones authenticate at the token endpoint."""
        client = request.client or self._load_application(client_id, request)
        return client is None or client.client_type != Application.CLIENT_CONFIDENTIAL

    # --- agent context: session → grant → access token → refreshed token --------------------

    def save_authorization_code(
        self, client_id: str, code: dict, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        grant = self._create_authorization_code(request, code)
        acting_for = clean_acting_for(getattr(request, "zwfw_acting_for", None))
        if acting_for:
            GrantContext.objects.create(grant=grant, acting_for=acting_for)
        audit.record(
            "sso:authorization:issue",
            "oauth2_provider.application",
            client_id,
            after={
                "scopes": list(request.scopes or []),
                "acting_for": acting_for["uscc"] if acting_for else None,
            },
        )

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if valid:
            request.zwfw_acting_for = (
                GrantContext.objects.filter(grant__code=code, grant__application=client)
                .values_list("acting_for", flat=True)
                .first()
            )
        return valid

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if valid:
            previous = request.refresh_token_instance.access_token_id
            request.zwfw_acting_for = (
                TokenContext.objects.filter(access_token_id=previous)
                .values_list("acting_for", flat=True)
                .first()
            )
        return valid

    def _save_bearer_token(self, token: dict, request: Any, *args: Any, **kwargs: Any) -> None:
        super()._save_bearer_token(token, request, *args, **kwargs)
        acting_for = getattr(request, "zwfw_acting_for", None)
        if acting_for:
            checksum = hashlib.sha256(token["access_token"].encode()).hexdigest()
            access_token = AccessToken.objects.filter(token_checksum=checksum).first()
            if access_token is not None:
                TokenContext.objects.update_or_create(
                    access_token=access_token, defaults={"acting_for": acting_for}
                )
        if request.grant_type == "client_credentials":
            client_id = request.client.client_id
            audit.record(
                "sso:token:issue",
                "oauth2_provider.application",
                client_id,
                after={"grant": "client_credentials", "scope": token.get("scope", "")},
                actor=client_actor(client_id),
            )

    # --- claims ------------------------------------------------------------------------------

    def _acting_for(self, request: Any) -> dict[str, Any] | None:
        value = getattr(request, "zwfw_acting_for", _MISSING)
        if value is _MISSING:
            # Userinfo: the context travels with the access token presented.
            token = getattr(request, "access_token", None)
            value = None
            if isinstance(token, AccessToken):
                value = (
                    TokenContext.objects.filter(access_token=token)
                    .values_list("acting_for", flat=True)
                    .first()
                )
        return clean_acting_for(value)

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        return person_claims(request.user, self._acting_for(request))

    def get_discovery_claims(self, request: Any) -> list[str]:
        return list(CLAIM_SCOPES)

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Any) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_oidc_claims(token, token_handler, request)
        if "phone_number" in claims:
            # A full phone number leaves the platform: a read of personal data by a client.
            client_id = request.client.client_id if request.client else ""
            audit.record(
                "identity:user:read",
                "identity.user",
                request.user.pk,
                after={"purpose": "oidc_claims", "fields": ["phone"], "client_id": client_id},
                actor=client_actor(client_id),
            )
        return claims
