"""Keyset pagination: stable pages over growing tables, no OFFSET scans.

A cursor is an opaque URL-safe token holding the sort key of the last row of the previous
page. Lists order by a unique key (or a key plus the primary key), so a row inserted while a
client pages is never shown twice or skipped.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, Q, QuerySet

from zwfw.core.errors import ValidationError

M = TypeVar("M", bound=Model)

MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != size:
        raise ValidationError(
            "pagination.cursor",
            "分页游标无效，请从第一页重新开始。",
            "The page cursor is invalid; start again from the first page.",
            field="cursor",
        )
    return values


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            "pagination.limit",
            f"每页条数应在1到{MAX_LIMIT}之间。",
            f"limit must be between 1 and {MAX_LIMIT}.",
            field="limit",
            details={"value": limit, "max": MAX_LIMIT},
        )
    return limit


def paginate(
    queryset: QuerySet[M], keys: tuple[str, ...], cursor: str | None, limit: int
) -> Page[M]:
    """One page of ``queryset`` ordered ascending by ``keys`` (the last must be unique)."""
    check_limit(limit)
    queryset = queryset.order_by(*keys)
    if cursor:
        values = decode_cursor(cursor, len(keys))
        # (k1, k2) > (v1, v2)  ⇔  k1 > v1  or  (k1 = v1 and k2 > v2)
        condition = Q()
        for i, key in enumerate(keys):
            step = Q(**{f"{key}__gt": values[i]})
            for j in range(i):
                step &= Q(**{keys[j]: values[j]})
            condition |= step
        queryset = queryset.filter(condition)
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = encode_cursor([_key_value(last, key) for key in keys])
    return Page(rows, next_cursor)


def _key_value(obj: Model, key: str) -> Any:
    value: Any = obj
    for part in key.split("__"):
        value = getattr(value, part)
    return value
