"""The supervision dashboards page (``/workbench/dashboards/``), for staff.

Server-rendered: every figure is in an HTML table (readable without JavaScript and by screen
readers); the same data, embedded as JSON, is drawn with ECharts by ``dashboard.js``. The data
is exactly what ``GET /api/v1/indicators/dashboard`` returns for the same filters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from zwfw.core.errors import NotFound, PermissionDenied, ValidationError
from zwfw.indicators import selectors
from zwfw.indicators.api import DashboardOut

MAX_ID = 2**63 - 1


def _int(value: str | None) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise ValidationError(
            "indicators.department_invalid", "部门编号不正确。", "Bad department id.",
            field="department",
        )  # fmt: skip
    return int(text)


def _date(value: str | None, field: str) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValidationError(
            "indicators.date_invalid",
            f"日期“{text[:20]}”格式不正确，应为 YYYY-MM-DD。",
            "Dates look like YYYY-MM-DD.",
            field=field,
        ) from None


def dashboard_data(scope: selectors.Scope, period: selectors.Period) -> dict[str, Any]:
    """The dashboard structure exactly as the API serialises it."""
    data = selectors.dashboard(scope, period)
    return DashboardOut.model_validate(data).model_dump(mode="json", by_alias=True)


@login_required
@require_GET
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """``/workbench/dashboards/``: warnings, on-time trend, ratings, rectifications, scores."""
    params = request.GET
    try:
        scope = selectors.viewer_scope(request.user, _int(params.get("department")))
        period = selectors.parse_period(
            _date(params.get("from"), "from"), _date(params.get("to"), "to"), params.get("period")
        )
    except (PermissionDenied, NotFound) as error:
        return render(request, "indicators/forbidden.html", {"message": error.message}, status=403)
    except ValidationError as error:
        return render(
            request, "indicators/forbidden.html", {"message": error.message, "bad": True},
            status=400,
        )  # fmt: skip
    data = dashboard_data(scope, period)
    departments = []
    if selectors.is_node_viewer(request.user):
        from zwfw.organisations.models import Department

        departments = list(
            Department.objects.filter(is_active=True).order_by("id").values("id", "name")
        )
    context = {
        "data": data,
        "filters": {
            "department": scope.department_ids[0]
            if scope.department_ids and len(scope.department_ids) == 1
            else None,
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
        },
        "departments": departments,
        "export_query": request.GET.urlencode(),
    }
    return render(request, "indicators/dashboard.html", context)
