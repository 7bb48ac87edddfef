"""Structured logs: one JSON object per line with the request context, personal data masked."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from zwfw.core import context
from zwfw.core.masking import mask_text


class StructuredFormatter(logging.Formatter):
    def __init__(self, json: bool = True) -> None:
        super().__init__()
        self.as_json = json

    def format(self, record: logging.LogRecord) -> str:
        ctx = context.current()
        message = mask_text(record.getMessage())
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": message,
        }
        if ctx.request_id:
            event["request_id"] = ctx.request_id
        if ctx.actor:
            event["actor"] = ctx.actor
        if record.exc_info:
            event["exception"] = mask_text(self.formatException(record.exc_info))
        extra = getattr(record, "data", None)
        if isinstance(extra, dict):
            event.update({k: mask_text(str(v)) for k, v in extra.items()})
        if not self.as_json:
            tail = " ".join(f"{k}={v}" for k, v in event.items() if k not in {"time", "event"})
            return f"{event['time']} {message} {tail}"
        return json.dumps(event, ensure_ascii=False)
