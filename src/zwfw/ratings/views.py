"""The page a rating QR code opens: a plain form, mobile first, no JavaScript, no login."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from zwfw.core.errors import ZwfwError
from zwfw.ratings import services
from zwfw.ratings.api import STATE_LABELS
from zwfw.ratings.models import DIMENSION_LABELS, DIMENSIONS, Level, RatingKind


def _int(value: str | None) -> int | str | None:
    text = (value or "").strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() and len(text) < 3 else text


@require_http_methods(["GET", "POST"])
def rate_page(request: HttpRequest, token: str) -> HttpResponse:
    context: dict[str, Any] = {
        "token": token,
        "levels": [(lv.value, lv.label, "★" * (6 - lv.value)) for lv in Level],
        "dimensions": [(k, DIMENSION_LABELS[k]) for k in DIMENSIONS],
        "values": {},
    }
    try:
        row = services.token_row(token)
    except ZwfwError as error:
        context["error"] = error.message
        return render(request, "ratings/rate.html", context, status=400)
    context["row"] = row
    context["kind_label"] = RatingKind(row.kind).label
    status = 200
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in request.POST}
        context["values"] = values
        try:
            level = _int(values.get("level"))
            rating = services.rate_by_token(
                token,
                level=level,
                text=values.get("text", ""),
                scores={k: _int(values.get(k)) for k in DIMENSIONS},
                named=values.get("named") == "1",
                contact_name=values.get("contact_name", ""),
                contact_phone=values.get("contact_phone", ""),
            )
        except ZwfwError as error:
            context["error"] = error.message
            status = error.http_status
        else:
            context["rating"] = rating
            context["level_label"] = Level(rating.level).label
            return render(request, "ratings/rate.html", context)
    state = services.token_state(row)
    context["state"] = state
    context["state_label"] = STATE_LABELS[state]
    return render(request, "ratings/rate.html", context, status=status)
