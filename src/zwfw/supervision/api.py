"""API of 电子监察 (``/api/v1/supervision``): warnings, their summary, 督办 orders, rules.

Staff only: supervisors see their node, other staff their own departments, citizens nothing
(403). Writes go through :mod:`zwfw.supervision.services` (audited).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.security import django_auth
from pydantic import Field

from zwfw.api.requesting import current_user as _me
from zwfw.core import calendar as cal
from zwfw.supervision import engine, selectors, services
from zwfw.supervision.models import Order, Rule, Warning

router = Router(tags=["supervision"])
MAX_ID = 2**63 - 1


# --- schemas -------------------------------------------------------------------------------------


class WarningOut(Schema):
    number: str = Field(description="监察编号")
    case_number: str | None = Field(description="办件编号")
    item_name: str
    rule: str = Field(description="规则编号")
    rule_name: str
    severity: str = Field(description="预警类型 yellow / orange / red")
    department_id: int
    department: str = Field(description="责任部门")
    status: str
    raised_at: dt.datetime = Field(description="发出时间")
    updated_at: dt.datetime
    cleared_at: dt.datetime | None
    description: str = Field(description="结果描述")
    detail: dict[str, Any]


class WarningPage(Schema):
    items: list[WarningOut]
    next_cursor: str | None


class WarningFilter(Schema):
    severity: Literal["yellow", "orange", "red"] | None = None
    status: Literal["open", "cleared"] | None = None
    department: int | None = Field(None, ge=1, le=MAX_ID)
    rule: str | None = Field(None, max_length=8)
    case: str | None = Field(None, max_length=32, description="办件编号")
    cursor: str | None = Field(None, max_length=200)
    limit: int = 20


class DepartmentCounts(Schema):
    department_id: int
    department: str
    yellow: int
    orange: int
    red: int
    total: int


class SummaryOut(Schema):
    status: str
    total: int
    by_severity: dict[str, int]
    by_department: list[DepartmentCounts]


class SummaryFilter(Schema):
    status: Literal["open", "cleared"] = "open"


class OrderIn(Schema):
    warning: str | None = Field(None, max_length=24, description="监察编号（由预警发起）")
    case: str | None = Field(None, max_length=32, description="办件编号（人工督办）")
    department_id: int | None = Field(None, ge=1, le=MAX_ID, description="责任部门")
    reason: str = Field("", max_length=2000, description="督办内容")
    card: Literal["yellow", "red"] | None = None
    response_days: int | None = Field(None, ge=1, le=30, description="回复期限（工作日）")


class OrderOut(Schema):
    number: str
    warning: str | None
    case_number: str | None
    department_id: int
    department: str
    issued_by_name: str
    reason: str
    issued_at: dt.datetime
    response_deadline: dt.date
    overdue: bool
    status: str
    response: str
    responded_at: dt.datetime | None
    responded_by_name: str
    escalated_to_id: int | None
    escalated_to: str | None
    escalation_level: int
    card: str
    closed_at: dt.datetime | None
    close_note: str


class OrderPage(Schema):
    items: list[OrderOut]
    next_cursor: str | None


class OrderFilter(Schema):
    status: Literal["open", "responded", "escalated", "closed"] | None = None
    department: int | None = Field(None, ge=1, le=MAX_ID)
    card: Literal["yellow", "red"] | None = None
    cursor: str | None = Field(None, max_length=200)
    limit: int = 20


class ResponseIn(Schema):
    response: str = Field(..., max_length=2000, description="办理情况")


class CloseIn(Schema):
    note: str = Field("", max_length=2000)


class RuleOut(Schema):
    code: str
    name: str
    description: str
    severity: str
    response_working_days: int
    enabled: bool
    available: bool = Field(description="whether the data the rule needs exists")
    parameters: dict[str, Any]
    percent: int | None = Field(description="R02: effective warning percent")
    max_days: int | None = Field(description="R06: effective longest pause (calendar days)")


class RulePatch(Schema):
    enabled: bool | None = None
    percent: int | None = Field(None, ge=1, le=100)
    max_days: int | None = Field(None, ge=1, le=3650)
    response_working_days: int | None = Field(None, ge=1, le=30)
    auto_order: bool | None = None


# --- serialisers ---------------------------------------------------------------------------------


def warning_out(warning: Warning) -> dict[str, Any]:
    return {
        "number": warning.number,
        "case_number": warning.case.number,
        "item_name": warning.case.item_name,
        "rule": warning.rule.code,
        "rule_name": warning.rule.name,
        "severity": warning.severity,
        "department_id": warning.department_id,
        "department": warning.department.name,
        "status": warning.status,
        "raised_at": warning.raised_at,
        "updated_at": warning.updated_at,
        "cleared_at": warning.cleared_at,
        "description": warning.description,
        "detail": warning.detail,
    }


def order_out(order: Order, today: dt.date | None = None) -> dict[str, Any]:
    today = today or cal.local_date(timezone.now())
    return {
        "number": order.number,
        "warning": order.warning.number if order.warning_id and order.warning else None,
        "case_number": order.case.number if order.case_id and order.case else None,
        "department_id": order.department_id,
        "department": order.department.name,
        "issued_by_name": order.issued_by_name,
        "reason": order.reason,
        "issued_at": order.issued_at,
        "response_deadline": order.response_deadline,
        "overdue": order.status in ("open", "escalated") and order.response_deadline < today,
        "status": order.status,
        "response": order.response,
        "responded_at": order.responded_at,
        "responded_by_name": order.responded_by_name,
        "escalated_to_id": order.escalated_to_id,
        "escalated_to": order.escalated_to.name if order.escalated_to else None,
        "escalation_level": order.escalation_level,
        "card": order.card,
        "closed_at": order.closed_at,
        "close_note": order.close_note,
    }


def rule_out(rule: Rule) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "description": rule.description,
        "severity": rule.severity,
        "response_working_days": rule.response_working_days,
        "enabled": rule.enabled,
        "available": engine.is_available(rule.code),
        "parameters": rule.parameters or {},
        "percent": engine.percent_of(rule) if rule.code == "R02" else None,
        "max_days": engine.max_pause_of(rule) if rule.code == "R06" else None,
    }


# --- routes --------------------------------------------------------------------------------------


@router.get("/warnings", response=WarningPage, auth=django_auth, summary="监察预警列表")
def list_warnings(request: HttpRequest, filters: Query[WarningFilter]) -> dict[str, Any]:
    page = selectors.warnings(
        _me(request),
        severity=filters.severity,
        status=filters.status,
        department_id=filters.department,
        rule=filters.rule,
        case_number=filters.case,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [warning_out(w) for w in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/warnings/summary",
    response=SummaryOut,
    auth=django_auth,
    summary="Counts of warnings by severity and department — 预警统计",
)
def warnings_summary(request: HttpRequest, filters: Query[SummaryFilter]) -> dict[str, Any]:
    return selectors.warning_summary(_me(request), status=filters.status)


@router.get("/warnings/{number}", response=WarningOut, auth=django_auth, summary="One warning")
def get_warning(request: HttpRequest, number: str) -> dict[str, Any]:
    return warning_out(selectors.get_warning(_me(request), number[:24]))


@router.post("/orders", response={201: OrderOut}, auth=django_auth, summary="发出督办 (supervisor)")
def create_order(request: HttpRequest, body: OrderIn) -> Status:
    user = _me(request)
    selectors.scope_of(user)  # non-staff: 403 before anything is looked up
    order = services.create_order(
        user,
        reason=body.reason,
        warning_number=body.warning,
        case_number=body.case,
        department_id=body.department_id,
        card=body.card,
        response_days=body.response_days,
    )
    order = selectors.get_order(request.user, order.number)
    return Status(201, order_out(order))


@router.get("/orders", response=OrderPage, auth=django_auth, summary="督办单列表")
def list_orders(request: HttpRequest, filters: Query[OrderFilter]) -> dict[str, Any]:
    page = selectors.orders(
        _me(request),
        status=filters.status,
        department_id=filters.department,
        card=filters.card,
        cursor=filters.cursor,
        limit=filters.limit,
    )
    today = cal.local_date(timezone.now())
    return {"items": [order_out(o, today) for o in page.items], "next_cursor": page.next_cursor}


@router.get("/orders/{number}", response=OrderOut, auth=django_auth, summary="One order")
def get_order(request: HttpRequest, number: str) -> dict[str, Any]:
    return order_out(selectors.get_order(_me(request), number[:24]))


@router.post(
    "/orders/{number}/response",
    response=OrderOut,
    auth=django_auth,
    summary="回复督办 (department admin)",
)
def respond_order(request: HttpRequest, number: str, body: ResponseIn) -> dict[str, Any]:
    user = _me(request)
    selectors.get_order(user, number[:24])  # 404 for orders the user may not see
    services.respond_order(user, number[:24], body.response)
    return order_out(selectors.get_order(user, number[:24]))


@router.post(
    "/orders/{number}/close", response=OrderOut, auth=django_auth, summary="办结督办 (supervisor)"
)
def close_order(request: HttpRequest, number: str, body: CloseIn) -> dict[str, Any]:
    user = _me(request)
    selectors.get_order(user, number[:24])
    services.close_order(user, number[:24], body.note)
    return order_out(selectors.get_order(user, number[:24]))


@router.get("/rules", response=list[RuleOut], auth=django_auth, summary="监察规则")
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    selectors.scope_of(_me(request))  # staff only
    return [rule_out(r) for r in selectors.rules()]


@router.patch("/rules/{code}", response=RuleOut, auth=django_auth, summary="修改规则 (node admin)")
def patch_rule(request: HttpRequest, code: str, body: RulePatch) -> dict[str, Any]:
    rule = services.update_rule(
        _me(request),
        code[:8],
        enabled=body.enabled,
        percent=body.percent,
        max_days=body.max_days,
        response_working_days=body.response_working_days,
        auto_order=body.auto_order,
    )
    return rule_out(rule)
