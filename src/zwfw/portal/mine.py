"""我的: my cases (status, timeline, corrections and resubmission), my materials, my messages,
my licences, and the places later issues fill (consultations, ratings).

While a session acts for a company (identity's switch), 我的办件 and 我的材料 are the
company's; messages and licences stay the person's (licences include those of companies the
person legally represents: ``licences.selectors.licences_of``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from zwfw.cases import services
from zwfw.cases.models import CaseStatus, CorrectionRequest, Notice
from zwfw.core.errors import ValidationError, ZwfwError
from zwfw.core.pagination import check_limit
from zwfw.portal import access, presenters
from zwfw.portal.apply import _checklist, material_action

PAGE_SIZE = 20
MESSAGES_SHOWN = 50


def _tabs(current: str) -> list[dict[str, Any]]:
    tabs = (
        ("overview", "概览", "portal:my"),
        ("cases", "我的办件", "portal:my_cases"),
        ("licences", "我的证照", "portal:my_licences"),
        ("materials", "我的材料", "portal:my_materials"),
        ("messages", "我的消息", "portal:my_messages"),
        ("consultations", "我的咨询", "portal:my_consultations"),
        ("ratings", "我的评价", "portal:my_ratings"),
        ("profile", "账户与安全", "identity:profile"),
    )
    return [
        {"label": label, "url": reverse(name), "current": key == current}
        for key, label, name in tabs
    ]


@login_required
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """我的 at a glance: cases needing action, counts by status, shortcuts."""
    from django.db.models import Count

    queryset = access.my_case_queryset(request)
    counts = {
        row["status"]: row["n"]
        for row in queryset.values("status").annotate(n=Count("id")).order_by()
    }
    needs_action = list(
        queryset.filter(status__in=[CaseStatus.CORRECTION, CaseStatus.DRAFT])
        .select_related("department")
        .order_by("-pk")[:10]
    )
    return render(
        request,
        "portal/my_overview.html",
        {
            "tabs": _tabs("overview"),
            "counts": [
                {"status": s, "badge": presenters.status_badge(s), "count": counts.get(s, 0)}
                for s in CaseStatus.values
                if counts.get(s)
            ],
            "needs_action": [(c, presenters.status_badge(c.status)) for c in needs_action],
        },
    )


@login_required
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    """我的办件: newest first, filter by status, keyset pages (cases.selectors.my_cases)."""
    from zwfw.cases import selectors

    status = request.GET.get("status") or None
    if status and status not in CaseStatus.values:
        status = None
    try:
        page = selectors.my_cases(
            request.user,
            access.acting_uscc(request),
            status=status,
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except ValidationError:  # a tampered cursor: the first page again
        page = selectors.my_cases(
            request.user, access.acting_uscc(request), status=status, limit=PAGE_SIZE
        )
    base = {"status": status} if status else {}
    from urllib.parse import urlencode

    return render(
        request,
        "portal/my_cases.html",
        {
            "tabs": _tabs("cases"),
            "rows": [(c, presenters.status_badge(c.status)) for c in page.items],
            "status": status,
            "statuses": [(s, presenters.status_badge(s)) for s in CaseStatus.values],
            "next_query": urlencode({**base, "cursor": page.next_cursor})
            if page.next_cursor
            else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    """One of my cases: status, promised date, timeline, documents, the open correction
    notice with an upload per named material and the resubmit button, withdrawal."""
    case = access.my_case(request, case_id)
    if case.status == CaseStatus.DRAFT:
        return HttpResponseRedirect(reverse("portal:draft", args=[case.pk]))
    error: ZwfwError | None = None
    notice = "已提交补正材料。" if request.GET.get("resubmitted") else ""
    if request.GET.get("saved"):
        notice = "材料已更新。"
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        acting = access.acting_uscc(request)
        try:
            if action == "resubmit":
                services.resubmit(request.user, case, acting_uscc=acting)
                return HttpResponseRedirect(
                    reverse("portal:my_case", args=[case.pk]) + "?resubmitted=1"
                )
            if action == "rate":
                from zwfw.ratings import services as ratings

                level = _level(request.POST.get("level"))
                ratings.rate_case(
                    request.user,
                    case,
                    level=level,
                    text=request.POST.get("text", ""),
                    acting_uscc=acting,
                )
                return HttpResponseRedirect(
                    reverse("portal:my_case", args=[case.pk]) + "?rated=1#rating"
                )
            if action == "withdraw":
                services.withdraw(
                    request.user, case, request.POST.get("reason", ""), acting_uscc=acting
                )
                return HttpResponseRedirect(reverse("portal:my_case", args=[case.pk]))
            material_action(request, case)
            return HttpResponseRedirect(
                reverse("portal:my_case", args=[case.pk]) + "?saved=1#correction"
            )
        except ZwfwError as exc:
            error = exc
            status = exc.http_status
        case.refresh_from_db()
    correction = None
    correction_entries: list[dict[str, Any]] = []
    if case.status == CaseStatus.CORRECTION:
        correction = (
            CorrectionRequest.objects.filter(case=case, resolved_at__isnull=True)
            .order_by("-id")
            .first()
        )
        if correction is not None:
            checklist = {entry["index"]: entry for entry in _checklist(case)}
            for item in correction.items:
                index = item.get("checklist_index")
                entry = checklist.get(index) if index is not None else None
                material = entry["material"] if entry else None
                correction_entries.append(
                    {
                        **item,
                        "entry": entry,
                        "corrected": material is not None
                        and material.added_at > correction.requested_at,
                    }
                )
    notices = list(Notice.objects.filter(case=case).order_by("id").only("id", "kind", "title"))
    rating, rateable = _rating_state(case)
    if request.GET.get("rated"):
        notice = "感谢您的评价。"
    return render(
        request,
        "portal/my_case.html",
        {
            "tabs": _tabs("cases"),
            "case": case,
            "badge": presenters.status_badge(case.status),
            "timeline": presenters.public_timeline(case, with_opinions=True),
            "checklist": _checklist(case),
            "correction": correction,
            "correction_entries": correction_entries,
            "notices": notices,
            "may_withdraw": case.status
            in {CaseStatus.SUBMITTED, CaseStatus.CORRECTION, CaseStatus.IN_PROGRESS}
            and not case.decision,
            "error": error,
            "notice": notice,
            "rating": rating,
            "rateable": rateable,
            "levels": _levels(),
            "posted_level": request.POST.get("level", ""),
        },
        status=status,
    )


def _level(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text in {"1", "2", "3", "4", "5"} else None


def _levels() -> list[tuple[int, str]]:
    from zwfw.ratings.models import Level

    return [(value, str(label)) for value, label in Level.choices]


def _rating_state(case: Any) -> tuple[Any, bool]:
    """The case's 好差评 rating, and whether the applicant may rate it now."""
    from zwfw.core.errors import Conflict
    from zwfw.ratings import selectors as rating_selectors
    from zwfw.ratings import services as ratings

    rating = rating_selectors.case_rating(case)
    if rating is not None:
        return rating, False
    try:
        ratings.check_case_rateable(case)
    except Conflict:
        return None, False
    return None, True


@login_required
@require_GET
def materials(request: HttpRequest) -> HttpResponse:
    """我的材料: clean files I (or the company I act for) uploaded, reusable in applications."""
    from zwfw.cases import files
    from zwfw.identity.models import Company

    uscc = access.acting_uscc(request)
    company = Company.objects.filter(uscc=uscc).first() if uscc else None
    try:
        page = files.library_for(
            request.user, company, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
        )
    except ValidationError:
        page = files.library_for(request.user, company, limit=PAGE_SIZE)
    return render(
        request,
        "portal/my_materials.html",
        {
            "tabs": _tabs("materials"),
            "files": page.items,
            "company": company,
            "next_cursor": page.next_cursor,
        },
    )


@login_required
@require_GET
def messages(request: HttpRequest) -> HttpResponse:
    """我的消息: in-site messages (notifications, channel ``site``), newest first."""
    from zwfw.notifications.services import messages_for_recipient

    check_limit(MESSAGES_SHOWN)
    rows = list(
        messages_for_recipient(f"user:{request.user.pk}", "site")
        .only("id", "subject", "body", "created_at", "template_code")
        .order_by("-created_at")[:MESSAGES_SHOWN]
    )
    return render(request, "portal/my_messages.html", {"tabs": _tabs("messages"), "rows": rows})


@login_required
@require_GET
def licences(request: HttpRequest) -> HttpResponse:
    """我的证照: licences I hold, or that companies I represent hold, with downloads."""
    from zwfw.licences import selectors

    user: Any = request.user
    rows = list(selectors.licences_of(user)[:200])
    return render(
        request,
        "portal/my_licences.html",
        {"tabs": _tabs("licences"), "rows": rows, "formats": ("pdf", "ofd", "json")},
    )


@login_required
@require_GET
def consultations(request: HttpRequest) -> HttpResponse:
    text = "在线咨询功能即将开通。届时您向部门提出的咨询和答复将显示在这里。"
    return render(
        request,
        "portal/my_placeholder.html",
        {"tabs": _tabs("consultations"), "heading": "我的咨询", "text": text},
    )


@login_required
@require_GET
def ratings(request: HttpRequest) -> HttpResponse:
    """我的评价: the 好差评 ratings I gave, with the department's rectification if any."""
    from zwfw.ratings import selectors as rating_selectors

    try:
        page = rating_selectors.my_ratings(
            request.user, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
        )
    except ValidationError:
        page = rating_selectors.my_ratings(request.user, limit=PAGE_SIZE)
    return render(
        request,
        "portal/my_ratings.html",
        {"tabs": _tabs("ratings"), "rows": page.items, "next_cursor": page.next_cursor},
    )
