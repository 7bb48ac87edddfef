"""Who is calling: the signed-in account of an API request, and the company it acts for."""

from __future__ import annotations

from django.http import HttpRequest

from zwfw.core.errors import NotAuthenticated
from zwfw.identity.models import User


def current_user(request: HttpRequest) -> User:
    """The request's account, or ``NotAuthenticated`` (401) for an anonymous caller."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated("auth.required", "请先登录。", "Authentication required.")
    return user


def acting_uscc(request: HttpRequest) -> str | None:
    """The USCC of the company the session acts for (identity's "acting for" switch), if any."""
    acting = request.session.get("zwfw_acting_for") if hasattr(request, "session") else None
    return (acting or {}).get("uscc")
