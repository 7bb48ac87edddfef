"""Who is acting, for whom, in which request: read by the audit log and structured logs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str = ""
    actor: str = ""
    on_behalf_of: str = ""


_current: ContextVar[RequestContext] = ContextVar("zwfw_request_context", default=RequestContext())  # noqa: B039 (frozen)


def current() -> RequestContext:
    return _current.get()


@contextlib.contextmanager
def bind(**changes: str) -> Iterator[RequestContext]:
    """Run a block with parts of the context replaced (CLI commands, tasks, tests)."""
    token = _current.set(replace(_current.get(), **changes))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


_user: ContextVar[Any] = ContextVar("zwfw_request_user", default=None)


def current_user() -> Any:
    """The request's user object (resolved lazily by Django's auth middleware), or None."""
    request = _user.get()
    return getattr(request, "user", None) if request is not None else None


def set_for_request(ctx: RequestContext, request: Any = None) -> tuple[object, object]:
    return _current.set(ctx), _user.set(request)


def reset(tokens: tuple[object, object]) -> None:
    _current.reset(tokens[0])  # type: ignore[arg-type]
    _user.reset(tokens[1])  # type: ignore[arg-type]
