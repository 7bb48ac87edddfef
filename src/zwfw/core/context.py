"""Who is acting, for whom, in which request: read by the audit log and structured logs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace


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


def set_for_request(ctx: RequestContext) -> object:
    return _current.set(ctx)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
