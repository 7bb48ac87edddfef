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
            from zwfw.api.errors import error_response

            code, message, message_en = _STATUS_MESSAGES[response.status_code]
            details = {"path": request.path}
            if response.status_code == 405:
                details["allowed"] = response.get("Allow", "")
            shaped = error_response(code, message, details, message_en, status=response.status_code)
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response


_NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")


class RejectNulMiddleware:
    """Refuse NUL characters in the path, query string and text bodies.

    No legitimate form field holds one, PostgreSQL text columns cannot store one, and they are
    a classic way to cut strings short in C code below us. File uploads (multipart) are
    binary and exempt.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw_path = request.META.get("PATH_INFO", "") + "?" + request.META.get("QUERY_STRING", "")
        suspicious = "\x00" in raw_path or "%00" in raw_path
        content_type = request.META.get("CONTENT_TYPE", "")
        if not suspicious and not content_type.startswith("multipart/"):
            body = request.body if request.method in {"POST", "PUT", "PATCH"} else b""
            suspicious = any(marker in body for marker in _NUL_MARKERS)
        if suspicious:
            from zwfw.api.errors import error_response

            return error_response(
                "request.nul_character",
                "请求中包含非法的空字符（NUL），请删除后重试。",
                {"path": request.path},
                "The request contains a NUL character.",
                status=400,
            )
        return self.get_response(request)


class LanguageMiddleware:
    """Chinese unless the visitor chose another language with the switch (cookie).

    Unlike Django's LocaleMiddleware this ignores the browser's Accept-Language: a government
    portal speaks Chinese by default, and a page half in the browser's language (the chrome)
    and half in Chinese (the content) helps nobody.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.utils import translation

        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary = response.get("Vary", "")
        if "Cookie" not in patch_vary:
            response["Vary"] = f"{patch_vary}, Cookie" if patch_vary else "Cookie"
        translation.deactivate()
        return response
