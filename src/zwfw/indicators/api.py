"""Indicators API (``/api/v1/indicators``): scores, trend, the dashboard's data, weights, export.

Supervisors and node administrators see the whole node (or one department with
``department``); other staff see their own department(s); everyone else gets 403. Thin: the
figures come from :mod:`zwfw.indicators.selectors`, writes from :mod:`zwfw.indicators.services`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from ninja import Query, Router, Schema, Status
from ninja.security import django_auth
from pydantic import Field

from zwfw.api.schemas import ErrorOut
from zwfw.core.errors import NotAuthenticated, ValidationError
from zwfw.indicators import exporting, selectors, services

router = Router(tags=["indicators"])
MAX_ID = 2**63 - 1
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Filters(Schema):
    department: int | None = Field(None, ge=1, le=MAX_ID, description="部门 id（默认：可见范围）")
    from_: dt.date | None = Field(None, alias="from", description="统计期开始（含）")
    to: dt.date | None = Field(None, description="统计期结束（含），默认今天")
    period: str | None = Field(
        None, max_length=10, description="统计期：2026、2026-03 或 2026-Q1（优先于 from/to）"
    )


class ExportFilters(Filters):
    format: str = Field("xlsx", max_length=8, description="xlsx 或 csv")


def _scope_period(request: HttpRequest, filters: Filters) -> tuple[Any, Any]:
    scope = selectors.viewer_scope(request.user, filters.department)
    period = selectors.parse_period(filters.from_, filters.to, filters.period)
    return scope, period


# --- schemas --------------------------------------------------------------------------------------


class DepartmentRef(Schema):
    id: int
    name: str


class ScopeOut(Schema):
    node: bool
    departments: list[DepartmentRef]


class PeriodOut(Schema):
    from_: str = Field(..., alias="from")
    to: str


class SecondOut(Schema):
    code: str
    name: str
    formula: str
    source: str = Field(..., description="catalog / cases / ratings / supervision")
    kind: str = Field(..., description="rate / per_mille_inverse")
    weight: float
    numerator: int
    denominator: int
    value: float | None
    score: float | None


class FirstOut(Schema):
    code: str
    name: str
    weight: float
    score: float | None
    children: list[SecondOut]


class IndicatorsOut(Schema):
    scope: ScopeOut
    period: PeriodOut
    data_as_of: str | None
    total_score: float | None
    indicators: list[FirstOut]
    warning_ceiling: int


class MonthOut(Schema):
    month: str
    submitted: int
    closed: int
    closed_with_due: int
    closed_on_time: int
    on_time_rate: float | None
    ratings: int
    satisfied: int
    satisfaction_rate: float | None


class TrendOut(Schema):
    scope: ScopeOut
    period: PeriodOut
    months: list[MonthOut]


class SeverityOut(Schema):
    severity: str
    label: str
    total: int
    open: int
    link: str


class WarningDepartmentOut(Schema):
    department_id: int
    department: str
    total: int
    yellow: int
    orange: int
    red: int
    link: str


class WarningsOut(Schema):
    total: int
    by_severity: list[SeverityOut]
    by_department: list[WarningDepartmentOut]


class OrderStatusOut(Schema):
    status: str
    label: str
    count: int
    link: str


class OrderCardOut(Schema):
    card: str
    label: str
    count: int


class OrdersOut(Schema):
    total: int
    by_status: list[OrderStatusOut]
    by_card: list[OrderCardOut]


class LevelOut(Schema):
    level: int
    label: str
    count: int


class RatingsOut(Schema):
    total: int
    satisfied: int
    satisfaction_rate: float | None
    levels: list[LevelOut]


class RectificationStatusOut(Schema):
    status: str
    label: str
    count: int
    link: str


class RectificationsOut(Schema):
    total: int
    rectified: int
    rate: float | None
    by_status: list[RectificationStatusOut]


class CaseLinks(Schema):
    closed: str
    open: str


class CasesOut(Schema):
    submitted: int
    closed: int
    closed_with_due: int
    closed_on_time: int
    closed_late: int
    links: CaseLinks


class DepartmentRowOut(Schema):
    department_id: int
    department: str
    submitted: int
    closed: int
    on_time_rate: float | None
    ratings: int
    satisfaction_rate: float | None
    warnings: int


class SnapshotRefOut(Schema):
    id: int
    period_from: str
    period_to: str
    total_score: float | None
    computed_at: str


class DashboardOut(Schema):
    scope: ScopeOut
    period: PeriodOut
    data_as_of: str | None
    indicators: IndicatorsOut
    trend: list[MonthOut]
    warnings: WarningsOut
    orders: OrdersOut
    ratings: RatingsOut
    rectifications: RectificationsOut
    cases: CasesOut
    departments: list[DepartmentRowOut]
    snapshots: list[SnapshotRefOut]


class WeightOut(Schema):
    code: str
    name: str
    level: int
    parent: str | None
    weight: float
    default: float


class WeightsIn(Schema):
    weights: dict[str, float] = Field(
        ..., description="指标代码 → 权重（0–1000）；未提交的指标保持原权重"
    )


class SnapshotIn(Schema):
    department: int | None = Field(None, ge=1, le=MAX_ID)
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    period: str | None = Field(None, max_length=10)


class SnapshotOut(Schema):
    id: int
    period_from: dt.date
    period_to: dt.date
    department_id: int | None
    total_score: float | None
    computed_at: dt.datetime
    computed_by: str


class SnapshotFilters(Schema):
    department: int | None = Field(None, ge=1, le=MAX_ID)
    cursor: str | None = Field(None, max_length=200)
    limit: int = 20


class SnapshotPage(Schema):
    items: list[SnapshotOut]
    next_cursor: str | None


# --- routes ---------------------------------------------------------------------------------------


@router.get(
    "/",
    response={200: IndicatorsOut, **ERRORS},
    by_alias=True,
    auth=django_auth,
    summary="Scores of every first- and second-level indicator",
)
def indicators(request: HttpRequest, filters: Query[Filters]) -> dict[str, Any]:
    scope, period = _scope_period(request, filters)
    return selectors.compute(scope, period)


@router.get(
    "/trend",
    response={200: TrendOut, **ERRORS},
    by_alias=True,
    auth=django_auth,
    summary="On-time rate and satisfaction per month",
)
def trend(request: HttpRequest, filters: Query[Filters]) -> dict[str, Any]:
    scope, period = _scope_period(request, filters)
    from zwfw.indicators import rollups

    rollups.ensure_fresh()
    return {
        "scope": scope.describe(),
        "period": period.as_dict(),
        "months": selectors.trend(scope, period),
    }


@router.get(
    "/dashboard",
    response={200: DashboardOut, **ERRORS},
    by_alias=True,
    auth=django_auth,
    summary="Everything the dashboard page draws, in one call",
)
def dashboard(request: HttpRequest, filters: Query[Filters]) -> dict[str, Any]:
    scope, period = _scope_period(request, filters)
    return selectors.dashboard(scope, period)


@router.get(
    "/weights",
    response={200: list[WeightOut], **ERRORS},
    auth=django_auth,
    summary="Indicator weights in force (defaults overlaid with the node's)",
)
def get_weights(request: HttpRequest) -> list[dict[str, Any]]:
    selectors.viewer_scope(request.user)
    return selectors.weights_out()


@router.put(
    "/weights",
    response={200: list[WeightOut], **ERRORS},
    auth=django_auth,
    summary="Change indicator weights (node administrators)",
)
def put_weights(request: HttpRequest, body: WeightsIn) -> list[dict[str, Any]]:
    if not getattr(request.user, "is_authenticated", False):
        raise NotAuthenticated("auth.required", "请先登录。", "Authentication required.")
    services.set_weights(request.user, body.weights)
    return selectors.weights_out()


@router.get(
    "/export",
    response={200: None, **ERRORS},
    auth=django_auth,
    summary="Indicators for third-party assessors (.xlsx or .csv)",
)
def export(request: HttpRequest, filters: Query[ExportFilters]) -> HttpResponseBase:
    if filters.format not in {"xlsx", "csv"}:
        raise ValidationError(
            "indicators.export_format",
            "导出格式应为 xlsx 或 csv。",
            "The export format must be xlsx or csv.",
            field="format",
        )
    scope, period = _scope_period(request, filters)
    result = selectors.compute(scope, period)
    name = f"在线服务能力指标_{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    if filters.format == "csv":
        response = HttpResponse(exporting.write_csv(result), content_type="text/csv; charset=utf-8")
        filename = f"{name}.csv"
    else:
        response = HttpResponse(
            exporting.write_xlsx(result, selectors.trend(scope, period)), content_type=XLSX
        )
        filename = f"{name}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@router.post(
    "/snapshots",
    response={201: SnapshotOut, **ERRORS},
    auth=django_auth,
    summary="Compute and store the indicators of a period (supervisors, node administrators)",
)
def create_snapshot(request: HttpRequest, body: SnapshotIn) -> Status:
    scope = selectors.viewer_scope(request.user, body.department)
    period = selectors.parse_period(body.from_, body.to, body.period)
    return Status(201, services.take_snapshot(request.user, scope, period))


@router.get(
    "/snapshots",
    response={200: SnapshotPage, **ERRORS},
    auth=django_auth,
    summary="Stored snapshots of the scope, in the order they were stored",
)
def list_snapshots(request: HttpRequest, filters: Query[SnapshotFilters]) -> dict[str, Any]:
    scope = selectors.viewer_scope(request.user, filters.department)
    page = selectors.list_snapshots(scope, cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}
