"""Licence pages: the public verification page the QR code points at, and the holder's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from zwfw.licences import services

STATUS_TEXT = {
    "valid": "有效",
    "revoked": "已注销/吊销",
    "expired": "已过期",
    "superseded": "已换发（请使用新版本）",
    "unknown": "未查到此证照",
}


def verify_page(request: HttpRequest) -> HttpResponse:
    identifier = (request.GET.get("id") or "").strip()[:120]
    verdict = services.verify_licence_identifier(identifier) if identifier else None
    status_text = ""
    if verdict is not None:
        status_text = STATUS_TEXT.get(verdict.status, verdict.status)
        if verdict.status == "valid" and not verdict.signature_ok:
            status_text = "签章校验失败（数据可能被篡改）"
    labels = {}
    if verdict is not None and verdict.status != "unknown":
        from zwfw.licences.models import Licence

        licence = Licence.objects.select_related("licence_type").get(identifier=verdict.identifier)
        labels = {f["name"]: f.get("label", f["name"]) for f in licence.licence_type.face_fields}
    face = [(labels.get(k, k), v) for k, v in (verdict.face.items() if verdict else [])]
    return render(
        request,
        "licences/verify.html",
        {"identifier": identifier, "verdict": verdict, "status_text": status_text, "face": face},
    )


# --- 我的证照: one licence, with what the holder decides about it -------------------------------


@login_required
def my_licence_page(request: HttpRequest, identifier: str) -> HttpResponse:
    """The holder's page of one licence: downloads, shown fields (J5), 用证授权, A-level copies.

    Every action is a plain form POST (no script needed); errors are shown with the form.
    """
    from zwfw.core.errors import ZwfwError
    from zwfw.licences import selectors, use
    from zwfw.licences.models import LicenceGrant
    from zwfw.organisations.models import Department

    user = request.user
    try:
        licence = selectors.my_licence(user, identifier[:120])  # type: ignore[arg-type]
    except ZwfwError as missing:
        raise Http404(missing.message) from missing
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "shown_fields":
                chosen = request.POST.getlist("fields")
                default = request.POST.get("default") == "1"
                use.set_shown_fields(user, licence.identifier, None if default else chosen)  # type: ignore[arg-type]
            elif action == "grant":
                use.create_grant(
                    user,  # type: ignore[arg-type]
                    licence.identifier,
                    department_id=_int(request.POST.get("department_id")),
                    purpose=request.POST.get("purpose", ""),
                    case_number=request.POST.get("case_number") or None,
                    fields=request.POST.getlist("grant_fields"),
                    days=_int(request.POST.get("days"), 30),
                )
            elif action == "revoke_grant":
                use.revoke_grant(user, licence.identifier, _int(request.POST.get("grant_id")))  # type: ignore[arg-type]
            elif action == "copy":
                pdf, until = use.certified_copy(
                    licence,
                    purpose=request.POST.get("purpose", ""),
                    days=_int(request.POST.get("days"), use.COPY_DEFAULT_DAYS),
                    requested_by=f"user:{user.pk}",
                )
                response = HttpResponse(pdf, content_type="application/pdf")
                response["Content-Disposition"] = (
                    f'attachment; filename="licence-{licence.serial}-copy-A-{until:%Y%m%d}.pdf"'
                )
                return response
            else:
                error = "未知的操作。"
            if not error:
                return redirect("licences:mine_detail", identifier=licence.identifier)
        except ZwfwError as failure:
            error = failure.message
        licence.refresh_from_db()
    fields = licence.licence_type.face_fields or [
        {"name": name, "label": name} for name in licence.face
    ]
    shown = licence.shown_fields
    grants = list(
        LicenceGrant.objects.filter(licence=licence).select_related("department", "case")[:100]
    )
    departments = Department.objects.order_by("name").values_list("pk", "name")[:500]
    return render(
        request,
        "licences/mine_detail.html",
        {
            "licence": licence,
            "fields": [
                {
                    "name": entry["name"],
                    "label": entry.get("label", entry["name"]),
                    "shown": shown is None or entry["name"] in shown,
                }
                for entry in fields
            ],
            "default_shown": shown is None,
            "grants": grants,
            "now": timezone.now(),
            "departments": departments,
            "error": error,
            "copy_days": use.COPY_DEFAULT_DAYS,
            "copy_max_days": use.COPY_MAX_DAYS,
            "grant_max_days": use.GRANT_MAX_DAYS,
        },
        status=400 if error else 200,
    )


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value or default)
    except ValueError:
        return -1  # out of every range: the service says what is wrong
