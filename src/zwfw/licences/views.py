"""The public verification page the QR code on a licence points at."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
