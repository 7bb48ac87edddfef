"""One error vocabulary for the whole platform.

Every error a client can cause carries a stable machine ``code`` (``domain.reason``), a message
in Chinese for people, an English message, and optional ``details`` (field, value, position).
The API turns them into ``{"code", "message", "details"}`` (RFC 9457 style) with the matching
HTTP status; pages show the Chinese message.
"""

from __future__ import annotations

from typing import Any


class ZwfwError(Exception):
    """Base of all expected, client-caused errors."""

    http_status = 400
    default_code = "error"

    def __init__(
        self,
        code: str | None = None,
        message: str = "",
        message_en: str = "",
        *,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.message = message or self.code
        self.message_en = message_en or self.message
        self.details: dict[str, Any] = dict(details or {})
        if field is not None:
            self.details.setdefault("field", field)
        super().__init__(f"[{self.code}] {self.message_en}")

    @property
    def field(self) -> str | None:
        return self.details.get("field")

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
            "details": self.details,
        }


class ValidationError(ZwfwError):
    """Input is malformed or breaks a rule; nothing was changed."""

    http_status = 400
    default_code = "validation.invalid"


class NotFound(ZwfwError):
    http_status = 404
    default_code = "not_found"


class PermissionDenied(ZwfwError):
    http_status = 403
    default_code = "permission.denied"


class NotAuthenticated(ZwfwError):
    http_status = 401
    default_code = "auth.required"


class Conflict(ZwfwError):
    """The request conflicts with the current state (duplicate, stale version, wrong status)."""

    http_status = 409
    default_code = "conflict"
