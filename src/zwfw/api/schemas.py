from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    """The error shape of every API error response."""

    code: str
    message: str
    message_en: str | None = None
    details: dict[str, Any] | list[Any] = {}
    request_id: str | None = None
