"""django-oauth-toolkit's bridge to oauthlib, extended to carry the session's agent context."""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_backends import OAuthLibCore

from zwfw.sso.claims import ACTING_FOR_SESSION_KEY, clean_acting_for


class ZwfwOAuthLibCore(OAuthLibCore):
    def create_authorization_response(
        self, request: Any, scopes: Any, credentials: dict[str, Any], allow: bool
    ) -> Any:
        """Hand the company the person acts for (if any) to the validator with the grant.

        The code is exchanged later by the client, from a request without the person's session,
        so the context is read here, at approval time, and stored with the grant.
        """
        session = getattr(request, "session", None)
        acting_for = clean_acting_for(session.get(ACTING_FOR_SESSION_KEY)) if session else None
        if acting_for:
            credentials = {**credentials, "zwfw_acting_for": acting_for}
        return super().create_authorization_response(request, scopes, credentials, allow)
