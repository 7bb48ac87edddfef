"""One JSON error shape for the whole API: ``{"code", "message", "details"}``.

Every exception a client can cause is mapped here, so that no request body, query string or
path produces a 500. Unexpected exceptions are logged with the request id and answered with a
generic ``server.error`` that leaks nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from zwfw.core import context
from zwfw.core.errors import ZwfwError

logger = logging.getLogger("zwfw.api")


def error_body(code: str, message: str, details: Any = None, message_en: str = "") -> dict:
    body: dict[str, Any] = {"code": code, "message": message, "details": details or {}}
    if message_en:
        body["message_en"] = message_en
    request_id = context.current().request_id
    if request_id:
        body["request_id"] = request_id
    return body


def error_response(
    code: str, message: str, details: Any = None, message_en: str = "", *, status: int
) -> JsonResponse:
    """An error in the API's shape, for code that runs outside ninja (middleware, handlers)."""
    return JsonResponse(
        error_body(code, message, details, message_en),
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _describe_pydantic(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    described = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        described.append(
            {
                "field": ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc),
                "location": loc[0] if loc else "",
                "type": error.get("type", ""),
                "reason": error.get("msg", ""),
            }
        )
    return described


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ZwfwError)
    def zwfw_error(request: HttpRequest, exc: ZwfwError) -> HttpResponse:
        return api.create_response(
            request,
            error_body(exc.code, exc.message, exc.details, exc.message_en),
            status=exc.http_status,
        )

    @api.exception_handler(NinjaValidationError)
    def request_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return api.create_response(
            request,
            error_body(
                "request.invalid",
                "请求内容不符合接口要求，请检查所列字段。",
                {"errors": _describe_pydantic(list(exc.errors))},
                "The request does not match the API schema; see the listed fields.",
            ),
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return api.create_response(
            request,
            error_body(
                "auth.required", "请先登录或提供有效的访问令牌。", None, "Authentication required."
            ),
            status=401,
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return api.create_response(
            request,
            error_body(f"http.{exc.status_code}", str(exc), None, str(exc)),
            status=exc.status_code,
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return api.create_response(
            request,
            error_body("not_found", "请求的对象不存在。", None, "Not found."),
            status=404,
        )

    @api.exception_handler(DjangoPermissionDenied)
    def denied(request: HttpRequest, exc: DjangoPermissionDenied) -> HttpResponse:
        return api.create_response(
            request,
            error_body("permission.denied", "无权执行此操作。", None, "Permission denied."),
            status=403,
        )

    @api.exception_handler(DjangoValidationError)
    def django_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"errors": exc.messages}
        return api.create_response(
            request,
            error_body("validation.invalid", "提交的数据无效。", details, "Invalid data."),
            status=400,
        )

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled error in API view %s", request.path)
        return api.create_response(
            request,
            error_body(
                "server.error",
                "服务器内部错误，请稍后再试；如仍失败请提供请求编号联系管理员。",
                None,
                "Internal error; quote the request id when reporting it.",
            ),
            status=500,
        )
