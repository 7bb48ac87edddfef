"""Account pages under ``/accounts/`` and the window registration page for clerks.

Plain, accessible forms (every input has a label; errors are linked to their field with
``aria-describedby``); the portal work styles them. Each POST calls one service and shows its
Chinese message on failure. Thin: no rules here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from zwfw.core.errors import ZwfwError
from zwfw.identity import otp, selectors, services
from zwfw.identity.factors import PERSON_FACTORS
from zwfw.identity.models import User

FORM_FIELD_MAX = 256


def _field(request: HttpRequest, name: str) -> str:
    return str(request.POST.get(name, ""))[:FORM_FIELD_MAX]


def _next(request: HttpRequest, default: str = "/accounts/profile/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _error(error: ZwfwError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "field": error.field}


def _attempt(action: Callable[[], Any]) -> tuple[Any, dict[str, Any] | None]:
    try:
        return action(), None
    except ZwfwError as error:
        return None, _error(error)


def _agreement_version(request: HttpRequest) -> int | None:
    value = request.POST.get("agreement_version", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 6 else None


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


# --- sign-in -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Password or SMS code, then the TOTP step when the account has one; honours ``next``."""
    target = _next(request)
    context: dict[str, Any] = {"next": target, "step": "first", "mode": "password"}
    if request.method == "POST":
        action = request.POST.get("action", "password")
        result, error = None, None
        if action == "password":
            result, error = _attempt(
                lambda: services.login_with_password(
                    request, _field(request, "identifier"), _field(request, "password")
                )
            )
        elif action == "send_code":
            context["mode"] = "sms"
            sent, error = _attempt(lambda: services.send_login_code(_field(request, "phone")))
            if sent is not None:
                context["notice"] = f"验证码已发送至{sent.phone_masked}，5分钟内有效。"
        elif action == "sms":
            context["mode"] = "sms"
            result, error = _attempt(
                lambda: services.login_with_sms(
                    request, _field(request, "phone"), _field(request, "code")
                )
            )
        elif action == "totp":
            context["step"] = "totp"
            result, error = _attempt(
                lambda: services.login_second_factor(request, _field(request, "code"))
            )
        context["error"] = error
        context["phone"] = _field(request, "phone")
        context["identifier"] = _field(request, "identifier")
        if result is not None and result.status == "second_factor":
            context["step"] = "totp"
        elif result is not None:
            if result.must_change_password:
                return HttpResponseRedirect(reverse("identity:password_change") + "?next=" + target)
            if result.agreement_required:
                return HttpResponseRedirect(reverse("identity:agreement") + "?next=" + target)
            return HttpResponseRedirect(target)
    status = 200 if not context.get("error") else 400
    return render(request, "identity/login.html", context, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        services.logout(request)
    return HttpResponseRedirect(reverse("identity:login"))


# --- registration --------------------------------------------------------------------------


def _factor_values(request: HttpRequest) -> dict[str, str]:
    return {
        name: _field(request, name)
        for name in PERSON_FACTORS
        if name != "phone" and _field(request, name)
    }


@require_http_methods(["GET", "POST"])
def register_view(request: HttpRequest) -> HttpResponse:
    """Online registration: ID number, name, phone + SMS code, one more factor, password."""
    if request.method == "GET" and services.has_pending_link(request):
        # Arriving from a trusted platform's sign-in: finish that registration instead.
        return HttpResponseRedirect(reverse("identity:register_linked"))
    agreement = services.current_agreement()
    context: dict[str, Any] = {
        "agreement": agreement,
        "factors": [(k, v) for k, v in PERSON_FACTORS.items() if k != "phone"],
        "values": {k: _field(request, k) for k in ("id_number", "name", "phone")},
        "factor_values": _factor_values(request),
    }
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            sent, error = _attempt(
                lambda: otp.send_code("register", _field(request, "phone"), _ip(request))
            )
            if sent is not None:
                context["notice"] = f"验证码已发送至{sent.phone_masked}，5分钟内有效。"
        else:
            user, error = _attempt(
                lambda: services.register_person_online(
                    id_number=_field(request, "id_number"),
                    name=_field(request, "name"),
                    phone=_field(request, "phone"),
                    code=_field(request, "code"),
                    factors_given=_factor_values(request),
                    password=_field(request, "password"),
                    agreement_version=_agreement_version(request),
                )
            )
            if user is not None:
                services.login_registered(request, user, "register")
                return HttpResponseRedirect(reverse("identity:profile"))
        context["error"] = error
    status = 400 if context.get("error") else 200
    return render(request, "identity/register.html", context, status=status)


@require_http_methods(["GET", "POST"])
def register_linked_view(request: HttpRequest) -> HttpResponse:
    """Finish registering from a trusted platform's account (after its sign-in)."""
    claims, error = _attempt(lambda: services.start_linked_registration(request))
    context: dict[str, Any] = {"claims": claims, "error": error}
    if claims is not None:
        context["agreement"] = services.current_agreement()
    if claims is not None and request.method == "POST":
        if request.POST.get("action") == "send_code":
            sent, error = _attempt(
                lambda: otp.send_code("link", _field(request, "phone"), _ip(request))
            )
            if sent is not None:
                context["notice"] = f"验证码已发送至{sent.phone_masked}。"
        else:
            user, error = _attempt(
                lambda: services.complete_linked_registration(
                    request,
                    id_number=_field(request, "id_number"),
                    phone=_field(request, "phone"),
                    code=_field(request, "code"),
                    password=_field(request, "password"),
                    agreement_version=_agreement_version(request),
                )
            )
            if user is not None:
                services.login_registered(request, user, "linked")
                return HttpResponseRedirect(reverse("identity:profile"))
        context["error"] = error
    status = 400 if context.get("error") and request.method == "POST" else 200
    return render(request, "identity/register_linked.html", context, status=status)


# --- signed-in pages -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def agreement_view(request: HttpRequest) -> HttpResponse:
    agreement = services.current_agreement()
    context: dict[str, Any] = {"agreement": agreement, "next": _next(request)}
    if request.method == "POST":
        if not isinstance(request.user, User):
            return HttpResponseRedirect(reverse("identity:login") + "?next=" + request.path)
        _, error = _attempt(
            lambda: services.accept_agreement(request.user, _agreement_version(request))  # type: ignore[arg-type]
        )
        if error is None:
            request.session.pop(services.SESSION_AGREEMENT, None)
            return HttpResponseRedirect(context["next"])
        context["error"] = error
    if isinstance(request.user, User):
        context["accepted"] = not services.needs_agreement(request.user)
    return render(request, "identity/agreement.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def profile_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]  # login_required
    context: dict[str, Any] = {}
    if request.method == "POST":
        updated, error = _attempt(
            lambda: services.update_profile(
                user, email=_field(request, "email"), work_unit=_field(request, "work_unit")
            )
        )
        context["error"] = error
        if updated is not None:
            user = updated
            context["notice"] = "已保存。"
    context["profile"] = selectors.profile(user, user)
    context["acting_for"] = request.session.get(services.SESSION_ACTING)
    return render(request, "identity/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"next": _next(request)}
    if request.method == "POST":
        _, error = _attempt(
            lambda: services.change_password(
                request, _field(request, "old_password"), _field(request, "new_password")
            )
        )
        if error is None:
            return HttpResponseRedirect(context["next"])
        context["error"] = error
    context["must_change"] = bool(request.session.get(services.SESSION_MUST_CHANGE))
    return render(request, "identity/password_change.html", context)


@require_http_methods(["GET", "POST"])
def password_reset_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"phone": _field(request, "phone")}
    if request.method == "POST":
        if request.POST.get("action") == "send_code":
            sent, error = _attempt(lambda: services.send_reset_code(_field(request, "phone")))
            if sent is not None:
                context["notice"] = f"如该号码已注册，验证码已发送至{sent.phone_masked}。"
        else:
            _, error = _attempt(
                lambda: services.reset_password(
                    _field(request, "phone"), _field(request, "code"), _field(request, "password")
                )
            )
            if error is None:
                return HttpResponseRedirect(reverse("identity:login") + "?reset=1")
        context["error"] = error
    return render(request, "identity/password_reset.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def sessions_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context: dict[str, Any] = {}
    if request.method == "POST":
        raw = request.POST.get("session", "")
        session_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0
        _, context["error"] = _attempt(lambda: services.end_session(user, session_id))
    page = selectors.sessions_of(user, cursor=None, limit=100)
    context["sessions"] = page.items
    context["current"] = request.session.get(services.SESSION_TRACKED)
    return render(request, "identity/sessions.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def totp_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            context["enrolment"], context["error"] = _attempt(lambda: services.enrol_totp(user))
        elif action == "confirm":
            _, context["error"] = _attempt(
                lambda: services.confirm_totp(user, _field(request, "code"))
            )
        elif action == "remove":
            _, context["error"] = _attempt(
                lambda: services.remove_totp(user, _field(request, "password"))
            )
    device = getattr(user, "totp_device", None) if hasattr(user, "totp_device") else None
    context["confirmed"] = bool(device and device.confirmed)
    return render(request, "identity/totp.html", context)


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def agents_view(request: HttpRequest) -> HttpResponse:
    """Companies I represent or act for: authorise and revoke agents, switch identity."""
    user = request.user
    assert isinstance(user, User)
    context: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        uscc = _field(request, "uscc")
        if action == "register_company":
            _, context["error"] = _attempt(
                lambda: services.register_company(user, uscc=uscc, name=_field(request, "name"))
            )
        elif action == "authorise":

            def authorise() -> Any:
                company = selectors.get_company(user, uscc)
                start = _parse_date(_field(request, "valid_from")) or dt.date.min
                end = _parse_date(_field(request, "valid_until")) or dt.date.min
                codes = list(_field(request, "item_codes").replace("，", ",").split(","))
                return services.authorise_agent(
                    user,
                    company,
                    agent_id_number=_field(request, "agent_id_number"),
                    agent_name=_field(request, "agent_name"),
                    all_items=request.POST.get("all_items") == "1",
                    item_codes=[c.strip() for c in codes if c.strip()],
                    valid_from=start,
                    valid_until=end,
                )

            _, context["error"] = _attempt(authorise)
        elif action == "revoke":
            raw = request.POST.get("authorisation", "")
            pk = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0
            _, context["error"] = _attempt(
                lambda: services.revoke_agent(user, selectors.get_authorisation(user, pk))
            )
        elif action == "switch":
            _, context["error"] = _attempt(
                lambda: services.switch_identity(
                    request, selectors.get_company(user, uscc) if uscc else None
                )
            )
    companies = list(selectors.companies_of(user))
    rows = []
    for company in companies:
        page = selectors.authorisations_of_company(user, company, cursor=None, limit=100)
        rows.append((company, [selectors.authorisation_row(a) for a in page.items]))
    context["companies"] = rows
    context["acting_for"] = request.session.get(services.SESSION_ACTING)
    return render(request, "identity/agents.html", context)


# --- the window ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def window_register_view(request: HttpRequest) -> HttpResponse:
    """``/workbench/identity/register/``: a clerk registers a person present with the ID card."""
    if not services.is_clerk(request.user):
        return render(request, "identity/forbidden.html", status=403)
    context: dict[str, Any] = {
        "agreement": services.current_agreement(),
        "values": {k: _field(request, k) for k in ("id_number", "name", "phone")},
    }
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "send_code":
            sent, context["error"] = _attempt(
                lambda: otp.send_code("window", _field(request, "phone"), _ip(request))
            )
            if sent is not None:
                context["notice"] = f"验证码已发送至{sent.phone_masked}，请申请人告知验证码。"
        elif action == "verify":
            verified, context["error"] = _attempt(
                lambda: services.verify_person_at_window(
                    request.user,
                    id_number=_field(request, "id_number"),
                    name=_field(request, "name"),
                )
            )
            if verified is not None:
                context["notice"] = "现场核验完成，账户实名等级已提升为L4。"
        else:
            result, context["error"] = _attempt(
                lambda: services.register_person_at_window(
                    request.user,
                    id_number=_field(request, "id_number"),
                    name=_field(request, "name"),
                    phone=_field(request, "phone"),
                    code=_field(request, "code"),
                    agreement_version=_agreement_version(request),
                )
            )
            if result is not None:
                context["values"] = {}  # next person: an empty form
                context["registered"] = selectors.profile(request.user, result.user)
                context["initial_password"] = result.initial_password
    status = 400 if context.get("error") else 200
    return render(request, "identity/window_register.html", context, status=status)
