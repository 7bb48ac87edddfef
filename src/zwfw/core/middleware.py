"""Request id, client address and actor for the audit log and logs; request metrics."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

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


_STATUS_MESSAGES = {
    400: ("request.bad", "请求格式错误。", "Bad request."),
    404: ("not_found", "请求的地址不存在。", "No such path."),
    405: ("http.method_not_allowed", "不支持该请求方法。", "Method not allowed."),
    413: ("request.too_large", "请求内容过大。", "Request body too large."),
}


class ApiErrorShapeMiddleware:
    """Give every API error the one JSON shape, also those Django answers before ninja."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in _STATUS_MESSAGES
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from zwfw.api.errors import error_body

            code, message, message_en = _STATUS_MESSAGES[response.status_code]
            details = {"path": request.path}
            if response.status_code == 405:
                details["allowed"] = response.get("Allow", "")
            shaped = JsonResponse(
                error_body(code, message, details, message_en), status=response.status_code
            )
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
