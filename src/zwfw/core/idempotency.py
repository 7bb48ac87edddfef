"""``Idempotency-Key`` support for creating endpoints (ARCHITECTURE: idempotency).

The business write and the stored answer commit in one transaction: either both exist or
neither does. Two concurrent requests with one key: the second fails on the unique key, its
whole transaction (business write included) rolls back, and it returns the first's answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from zwfw.core import audit
from zwfw.core.crypto import sm3_hex
from zwfw.core.errors import Conflict, ValidationError, ZwfwError
from zwfw.core.models import IdempotencyRecord

_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def _request_hash(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return sm3_hex(text.encode())


def run(
    request: HttpRequest,
    payload: Any,
    create: Callable[[], tuple[int, Any]],
    *,
    redact: Callable[[Any], Any] | None = None,
) -> tuple[int, Any]:
    """Run ``create`` (returns status and JSON-able body) at most once per Idempotency-Key.

    ``redact`` turns the answer into what may be stored for replays (e.g. without a secret
    shown only once); a replay returns the stored, redacted answer.
    """
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return create()
    if not _KEY.match(key):
        raise ValidationError(
            "idempotency.key_format",
            "Idempotency-Key 应为8–128位字母、数字或 . _ : -。",
            "Idempotency-Key must be 8–128 characters of A–Z a–z 0–9 . _ : -.",
            field="Idempotency-Key",
        )
    actor = audit.current_actor()
    digest = _request_hash(payload)
    endpoint = f"{request.method} {request.path}"

    def replay(record: IdempotencyRecord) -> tuple[int, Any]:
        if record.request_hash != digest or record.endpoint != endpoint:
            raise Conflict(
                "idempotency.key_reused",
                "该 Idempotency-Key 已用于另一个请求。",
                "This Idempotency-Key was used for a different request.",
            )
        return record.status_code, record.response

    existing = IdempotencyRecord.objects.filter(actor=actor, key=key).first()
    if existing is not None:
        return replay(existing)
    try:
        with transaction.atomic():
            status, body = create()
            IdempotencyRecord.objects.create(
                actor=actor,
                key=key,
                endpoint=endpoint,
                request_hash=digest,
                status_code=status,
                response=json.loads(json.dumps(redact(body) if redact else body, default=str)),
            )
    except IntegrityError:
        # A concurrent request with this key won; our writes were rolled back with it.
        winner = IdempotencyRecord.objects.filter(actor=actor, key=key).first()
        if winner is None:
            raise
        return replay(winner)
    except ZwfwError:
        # The winner of a race may have changed the state so that our attempt fails on a
        # business rule (e.g. "already submitted") before reaching the unique key: the
        # client retried, so it gets the winner's answer.
        winner = IdempotencyRecord.objects.filter(actor=actor, key=key).first()
        if winner is None:
            raise
        return replay(winner)
    return status, body
