"""Request id, client address and actor for the audit log and logs; request metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from zwfw.core import context, metrics

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _client_ip(request: HttpRequest) -> str:
    # Behind a proxy the deployment sets REMOTE_ADDR correctly (see docs/operations.md);
    # X-Forwarded-For is client-controlled and is not trusted here.
    return request.META.get("REMOTE_ADDR", "")


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        token = context.set_for_request(
            context.RequestContext(request_id=request_id, ip=_client_ip(request)), request
        )
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        match = getattr(request, "resolver_match", None)
        route = "unmatched" if match is None else (match.route or "/")
        metrics.observe_request(request.method or "GET", route, response.status_code, started)
        response["X-Request-ID"] = request_id
        return response
