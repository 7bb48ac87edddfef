"""OpenID Connect provider endpoints: the toolkit's views with the platform's error shape.

Protocol errors keep their RFC 6749 fields (``error``, ``error_description``) so stock client
libraries understand them, and also carry the platform's ``code`` / ``message`` (Chinese) /
``details`` (see ``zwfw.core.errors``). Client input never causes a 500: the few places where
the toolkit would raise on a hostile request are closed here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as dot_views
from oauth2_provider.exceptions import InvalidOIDCClientError
from oauth2_provider.models import get_application_model

from zwfw.core import audit

Application = get_application_model()

OAUTH_MESSAGES = {
    "invalid_request": "请求参数缺失或格式错误。",
    "invalid_client": "客户端认证失败：客户端标识或密钥错误。",
    "invalid_grant": "授权码、刷新令牌或 PKCE 校验值无效、已使用或已过期。",
    "unauthorized_client": "该客户端无权使用此授权方式。",
    "unsupported_grant_type": "不支持的授权方式。",
    "invalid_scope": "请求的授权范围无效，或超出该客户端获准的范围。",
    "access_denied": "用户拒绝了授权。",
    "unsupported_response_type": "不支持的响应类型。",
    "invalid_token": "访问令牌无效、已过期或已撤销。",
    "insufficient_scope": "访问令牌的授权范围不足。",
    "unsupported_token_type": "不支持该类型的令牌。",
    "invalid_target": "请求的资源地址无效。",
    "login_required": "需要先登录。",
    "consent_required": "需要用户同意授权。",
    "interaction_required": "需要用户操作。",
    "invalid_request_uri": "请求地址无效。",
    "invalid_redirect_uri": "回调地址未登记或格式错误。",
    "mismatching_redirect_uri": "回调地址与申请授权时不一致。",
    "missing_code_challenge": "公共客户端必须使用 PKCE（code_challenge，S256）。",
    "invalid_client_id": "客户端标识无效。",
}
DEFAULT_MESSAGE = "授权请求无法处理。"

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _challenge_error(response: HttpResponse) -> dict[str, str]:
    """The error a bearer challenge (RFC 6750 §3) states, for a body that has none."""
    params = dict(_CHALLENGE_PARAM.findall(response.get("WWW-Authenticate", "")))
    default = "insufficient_scope" if response.status_code == 403 else "invalid_token"
    return {
        "error": params.get("error") or default,
        "error_description": params.get("error_description", ""),
    }


def _with_platform_shape(response: HttpResponse) -> HttpResponse:
    """Add ``code``/``message``/``details`` to an OAuth error, keeping its own fields.

    Bearer-protected endpoints answer 401/403 with the error only in ``WWW-Authenticate``;
    the same error then also goes in a JSON body (the header stays).
    """
    if response.status_code < 400 or response.status_code == 405:
        return response
    if "json" in response.get("Content-Type", ""):
        try:
            body = json.loads(response.content or b"{}")
        except ValueError:
            return response
    elif response.status_code in {401, 403}:
        body = _challenge_error(response)
    else:
        return response
    if not isinstance(body, dict) or "error" not in body:
        return response
    error = str(body["error"])
    body.setdefault("code", f"oauth.{error}")
    body.setdefault("message", OAUTH_MESSAGES.get(error, DEFAULT_MESSAGE))
    body.setdefault("details", {"error_description": body.get("error_description", "")})
    response.content = json.dumps(body, ensure_ascii=False).encode()
    response["Content-Type"] = "application/json"
    return response


def oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    return JsonResponse(
        {
            "error": error,
            "error_description": description,
            "code": f"oauth.{error}",
            "message": OAUTH_MESSAGES.get(error, DEFAULT_MESSAGE),
            "details": {"error_description": description},
        },
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class AuthorizationView(dot_views.AuthorizationView):
    """Consent page and authorization endpoint (code flow only)."""

    def form_valid(self, form: Any) -> HttpResponse:
        # The hidden fields come back from the browser and may have been edited: an unknown
        # client_id would make the toolkit's lookup raise.
        if not Application.objects.filter(client_id=form.cleaned_data["client_id"]).exists():
            return self._error_page("invalid_client_id", "Unknown client_id.")
        return super().form_valid(form)

    def form_invalid(self, form: Any) -> HttpResponse:
        return self._error_page("invalid_request", "Incomplete authorization form.")

    def _error_page(self, error: str, description: str) -> HttpResponse:
        context = {"error": {"error": error, "description": description}}
        return self.render_to_response(context, status=400)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        error = context.get("error")
        if error is not None:
            code = getattr(error, "error", None) or (
                error.get("error") if isinstance(error, dict) else ""
            )
            context["error_message"] = OAUTH_MESSAGES.get(str(code), DEFAULT_MESSAGE)
            context["error_code"] = f"oauth.{code}"
        return context


class TokenView(dot_views.TokenView):
    @method_decorator(sensitive_post_parameters("password", "client_secret", "code_verifier"))
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.POST.get("grant_type") == DEVICE_GRANT:
            # Not offered; the toolkit would fail on a missing device_code.
            return oauth_error("unsupported_grant_type", "The device grant is not offered.")
        # The toolkit's own handler reads the new token back to send ``app_authorized``;
        # nothing here listens to that signal, and the read costs a query per token.
        _url, headers, body, status = self.create_token_response(request)
        response = HttpResponse(content=body, status=status)
        for name, value in headers.items():
            response[name] = value
        return _with_platform_shape(response)


class RevokeTokenView(dot_views.RevokeTokenView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _with_platform_shape(super().post(request, *args, **kwargs))


class IntrospectTokenView(dot_views.IntrospectTokenView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().dispatch(request, *args, **kwargs)
        if response.status_code in {401, 403} and "json" not in response.get("Content-Type", ""):
            shaped = oauth_error(
                "invalid_client",
                "Introspection needs client authentication or a token with scope 'introspection'.",
                status=401,
            )
            shaped["WWW-Authenticate"] = response.get("WWW-Authenticate", 'Basic realm="oauth"')
            return shaped
        return _with_platform_shape(response)


class UserInfoView(dot_views.UserInfoView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _with_platform_shape(super().dispatch(request, *args, **kwargs))


class JwksInfoView(dot_views.JwksInfoView):
    pass


class ConnectDiscoveryInfoView(dot_views.ConnectDiscoveryInfoView):
    """The discovery document, completed with what the toolkit leaves out."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(
            {
                "revocation_endpoint": request.build_absolute_uri(
                    reverse("oauth2_provider:revoke-token")
                ),
                "introspection_endpoint": request.build_absolute_uri(
                    reverse("oauth2_provider:introspect")
                ),
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                ],
                "response_modes_supported": ["query"],
                # Every client is registered for RS256 (see services.create_client).
                "id_token_signing_alg_values_supported": ["RS256"],
                "ui_locales_supported": ["zh-CN", "en"],
            }
        )
        data["claims_supported"] = sorted(data["claims_supported"])
        shaped = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
        shaped["Access-Control-Allow-Origin"] = "*"
        return shaped


class RPInitiatedLogoutView(dot_views.RPInitiatedLogoutView):
    """``end_session_endpoint``: ends the platform session (and the person's tokens)."""

    def get_request_application(self, id_token: Any, client_id: str | None) -> Any:
        if client_id:
            try:
                return Application.objects.get(client_id=client_id)
            except (Application.DoesNotExist, ValueError):
                raise InvalidOIDCClientError() from None
        return id_token.application if id_token else None

    def do_logout(
        self,
        application: Any = None,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
        token_user: Any = None,
    ) -> HttpResponse:
        user = token_user or self.request.user
        if getattr(user, "is_authenticated", False):
            audit.record(
                "sso:session:end",
                "identity.user",
                user.pk,
                after={"client_id": application.client_id if application else None},
            )
        return super().do_logout(application, post_logout_redirect_uri, state, token_user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        error = context.get("error")
        if error is not None:
            context["error_message"] = "退出登录请求无效：" + str(getattr(error, "description", ""))
        return context
