"""Per-request account checks: ended sessions, pending obligations, acting for a company.

Runs after Django's authentication middleware. It costs nothing for anonymous requests
without a session, one query for a tracked session (two while acting for a company):

* a session ended remotely (or by a password change) is signed out at once;
* a person who must change the first password, or accept a new agreement version, is sent to
  that page (API: 403 ``identity.password_change_required`` / ``identity.agreement_required``)
  except for the few paths that let them do it;
* while an agent acts for a company, every audit record of the request carries
  ``on_behalf_of="company:<uscc>"``; a revoked or expired authorisation ends the acting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import quote

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from zwfw.core import context
from zwfw.identity import services
from zwfw.identity.models import UserSession

LAST_SEEN_STEP = dt.timedelta(minutes=1)  # write last_seen at most once a minute per session

_ALWAYS_ALLOWED = (
    "/accounts/logout/",
    "/accounts/password/",
    "/accounts/agreement/",
    "/api/v1/identity/logout",
    "/api/v1/identity/password/",
    "/api/v1/identity/agreement",
    "/api/v1/identity/me",
    "/static/",
    "/i18n/",
)


def _obligation(request: HttpRequest) -> tuple[str, str, str, str] | None:
    session = request.session
    if session.get(services.SESSION_MUST_CHANGE):
        return (
            "identity.password_change_required",
            "首次登录请先修改初始密码。",
            "Change your first password before going on.",
            "identity:password_change",
        )
    if session.get(services.SESSION_AGREEMENT):
        return (
            "identity.agreement_required",
            "实名注册协议已更新，请阅读并同意后继续。",
            "Accept the updated real-name agreement before going on.",
            "identity:agreement",
        )
    return None


class AccountMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or not session.session_key:
            return self.get_response(request)
        refused = _refusal(request)
        if refused is not None:
            return refused
        acting = session.get(services.SESSION_ACTING)
        if isinstance(acting, dict) and request.user.is_authenticated:
            if services.acting_still_valid(request.user, acting):
                with context.bind(on_behalf_of=f"company:{acting.get('uscc', '')}"):
                    return self.get_response(request)
            session.pop(services.SESSION_ACTING, None)
        return self.get_response(request)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """Sign out an ended session; answer for a pending obligation; else None."""
    session = request.session
    session_id = session.get(services.SESSION_TRACKED)
    if session_id is not None:
        row = UserSession.objects.filter(pk=session_id).values("ended_at", "last_seen_at").first()
        if row is None or row["ended_at"] is not None:
            logout(request)
            return None
        now = timezone.now()
        if now - row["last_seen_at"] >= LAST_SEEN_STEP:
            UserSession.objects.filter(pk=session_id).update(last_seen_at=now)
    obligation = _obligation(request)
    if obligation is None or request.path.startswith(_ALWAYS_ALLOWED):
        return None
    code, message, message_en, url_name = obligation
    if request.path.startswith("/api/"):
        from zwfw.api.errors import error_response

        return error_response(code, message, None, message_en, status=403)
    return HttpResponseRedirect(reverse(url_name) + "?next=" + quote(request.path))
