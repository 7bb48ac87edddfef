"""Authentication backend: a person signs in with the ID number, the phone or the login handle.

Used by Django's own ``authenticate()`` (admin, ``changepassword``); the platform's pages and
API call :mod:`zwfw.identity.services` instead, which add lockout, auditing and TOTP.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from zwfw.identity.models import User


class AccountBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        from zwfw.identity.services import find_login_user

        if username is None or password is None:
            return None
        user, _ = find_login_user(username)
        if user is None:
            User().set_password(password)  # same work either way (timing)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
