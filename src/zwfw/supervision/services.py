"""Writes of 电子监察 (each audited): 督办 orders, their replies and escalation, rule settings.

- A **supervisor** whose node covers the department issues an order, from a warning or by hand;
  the reply deadline is the rule's ``response_working_days`` (by hand: given, default
  ``ZWFW_SUPERVISION_ORDER_DAYS``) working days after today.
- The department's **department admin** replies (after an escalation the parent department's
  admin may reply too); the supervisor **closes** the order.
- The sweep (:func:`escalate_orders`) escalates unanswered orders past their deadline to the
  parent department (``Department.parent``): level + 1, red card, a fresh deadline.
- A **node admin** enables or disables rules and changes their thresholds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from zwfw.cases.models import Case
from zwfw.core import audit
from zwfw.core import calendar as cal
from zwfw.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from zwfw.organisations.models import Department, Role
from zwfw.organisations.selectors import has_role
from zwfw.supervision import engine, selectors
from zwfw.supervision.models import Card, Order, OrderStatus, Rule, Severity, Warning

MAX_TEXT = 2000
MAX_RESPONSE_DAYS = 30


def actor_ref(user: Any) -> str:
    return f"user:{user.pk}" if getattr(user, "pk", None) else "system"


def _display(user: Any) -> str:
    return (getattr(user, "real_name", "") or getattr(user, "username", "") or "系统")[:64]


def _text(value: str | None, field: str, label: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError(
            "supervision.text_required", f"请填写{label}。", f"{field} is required.", field=field
        )
    if len(text) > MAX_TEXT:
        raise ValidationError(
            "supervision.text_too_long",
            f"{label}不能超过{MAX_TEXT}个字。",
            f"{field} is longer than {MAX_TEXT} characters.",
            field=field,
        )
    return text


def order_deadline(today: dt.date, working_days: int) -> dt.date:
    return cal.calendar_snapshot().add_working_days(today, max(1, working_days))


def order_card_for(severity: str) -> str:
    return Card.RED if severity == Severity.RED else Card.YELLOW


def _order_audit(order: Order, verb: str, actor: Any, after: dict[str, Any]) -> None:
    audit.record(
        f"supervision:order:{verb}",
        "supervision.order",
        order.pk,
        after={"number": order.number, **after},
        actor=actor_ref(actor) if actor is not None else engine.SYSTEM_ACTOR,
    )


def _require_supervisor(user: Any, department: Department, action: str) -> None:
    if not selectors.supervision_scope(user).covers(department):
        raise PermissionDenied(
            "supervision.not_supervisor",
            f"只有本节点的监察人员可以{action}。",
            f"Only a supervisor of this node may {action}.",
        )


# --- orders --------------------------------------------------------------------------------------


def create_order(
    actor: Any,
    *,
    reason: str = "",
    warning_number: str | None = None,
    case_number: str | None = None,
    department_id: int | None = None,
    card: str | None = None,
    response_days: int | None = None,
) -> Order:
    """Issue a 督办 order, from a warning (``warning_number``) or by hand (case / department)."""
    if card is not None and card not in Card.values:
        raise ValidationError(
            "supervision.card_unknown",
            "牌色只能是黄牌或红牌。",
            "card: yellow or red.",
            field="card",
        )
    if response_days is not None and not 1 <= response_days <= MAX_RESPONSE_DAYS:
        raise ValidationError(
            "supervision.response_days",
            f"回复期限应为1到{MAX_RESPONSE_DAYS}个工作日。",
            f"response_days must be 1–{MAX_RESPONSE_DAYS}.",
            field="response_days",
        )
    warning: Warning | None = None
    case: Case | None = None
    if warning_number:
        warning = (
            Warning.objects.select_related("rule", "department", "case")
            .filter(number=warning_number)
            .first()
        )
        if warning is None:
            raise NotFound("supervision.warning_unknown", "监察预警不存在。", "No such warning.")
        department = warning.department
        case = warning.case
        days = response_days or warning.rule.response_working_days
        card = card or order_card_for(warning.severity)
        reason = _text(reason, "reason", "督办内容", required=False) or warning.description
    else:
        reason = _text(reason, "reason", "督办内容")
        if case_number:
            case = Case.objects.select_related("department").filter(number=case_number).first()
            if case is None:
                raise NotFound("supervision.case_unknown", "办件不存在。", "No such case.")
        if department_id is not None:
            found = Department.objects.filter(pk=department_id).first()
            if found is None:
                raise NotFound(
                    "supervision.department_unknown", "责任部门不存在。", "No such department."
                )
            department = found
        elif case is not None:
            department = case.department
        else:
            raise ValidationError(
                "supervision.department_required",
                "请指定责任部门或办件。",
                "Give the responsible department or a case.",
                field="department_id",
            )
        days = response_days or int(settings.SUPERVISION_ORDER_DAYS)
        card = card or Card.YELLOW
    _require_supervisor(actor, department, "发出督办")
    now = timezone.now()
    today = cal.local_date(now)
    deadline = order_deadline(today, days)
    try:
        with transaction.atomic():
            (number,) = engine.reserve_numbers("DB", today, 1)
            order = Order.objects.create(
                number=number,
                warning=warning,
                case=case,
                department=department,
                issued_by=actor_ref(actor),
                issued_by_name=_display(actor),
                reason=reason,
                issued_at=now,
                response_deadline=deadline,
                card=card,
            )
            _order_audit(
                order,
                "issue",
                actor,
                {
                    "department": department.pk,
                    "warning": warning_number,
                    "case": case.number if case else None,
                    "deadline": deadline,
                    "card": card,
                },
            )
    except IntegrityError as exc:
        raise Conflict(
            "supervision.order_exists",
            "该预警已有督办单。",
            "This warning already has an order.",
            details={"warning": warning_number},
        ) from exc
    return order


def _locked_order(number: str) -> Order:
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("department", "escalated_to")
        .filter(number=number)
        .first()
    )
    if order is None:
        raise NotFound("supervision.order_unknown", "督办单不存在。", "No such order.")
    return order


def _may_respond(user: Any, order: Order) -> bool:
    departments = [order.department]
    if order.escalated_to is not None:
        departments.append(order.escalated_to)
    return any(has_role(user, Role.DEPARTMENT_ADMIN, d) for d in departments)


def respond_order(actor: Any, number: str, response: str) -> Order:
    """The department's reply (办理情况); only while the order is open or escalated."""
    response = _text(response, "response", "回复内容")
    with transaction.atomic():
        order = _locked_order(number)
        if not _may_respond(actor, order):
            raise PermissionDenied(
                "supervision.not_department_admin",
                "只有责任部门的部门管理员可以回复督办。",
                "Only a department admin of the responsible department may reply.",
            )
        if order.status not in (OrderStatus.OPEN, OrderStatus.ESCALATED):
            raise Conflict(
                "supervision.order_not_open",
                f"督办单当前状态为“{OrderStatus(order.status).label}”，不能回复。",
                f"The order is {order.status}.",
                details={"status": order.status},
            )
        before = order.status
        order.status = OrderStatus.RESPONDED
        order.response = response
        order.responded_at = timezone.now()
        order.responded_by = actor_ref(actor)
        order.responded_by_name = _display(actor)
        order.save(
            update_fields=[
                "status",
                "response",
                "responded_at",
                "responded_by",
                "responded_by_name",
            ]
        )
        _order_audit(order, "respond", actor, {"from": before, "response": response})
    return order


def close_order(actor: Any, number: str, note: str = "") -> Order:
    """The supervisor closes the order (after the reply, or at once when settled otherwise)."""
    note = _text(note, "note", "办结意见", required=False)
    with transaction.atomic():
        order = _locked_order(number)
        _require_supervisor(actor, order.department, "办结督办")
        if order.status == OrderStatus.CLOSED:
            raise Conflict(
                "supervision.order_closed", "督办单已办结。", "The order is already closed."
            )
        before = order.status
        order.status = OrderStatus.CLOSED
        order.closed_at = timezone.now()
        order.closed_by = actor_ref(actor)
        order.close_note = note
        order.save(update_fields=["status", "closed_at", "closed_by", "close_note"])
        _order_audit(order, "close", actor, {"from": before, "note": note})
    return order


def escalate_orders(*, today: dt.date | None = None, now: dt.datetime | None = None) -> int:
    """Escalate unanswered orders past their deadline to the parent department (the sweep).

    Set-based: one query finds them (partial index on open deadlines), one UPDATE per group of
    the same new responsible department. An order whose responsible department has no parent
    stays where it is (shown overdue).
    """
    now = now or timezone.now()
    today = today or cal.local_date(now)
    rows = list(
        Order.objects.filter(
            status__in=[OrderStatus.OPEN, OrderStatus.ESCALATED], response_deadline__lt=today
        )
        .filter(
            Q(escalated_to__isnull=True, department__parent__isnull=False)
            | Q(escalated_to__isnull=False, escalated_to__parent__isnull=False)
        )
        .values_list(
            "pk",
            "number",
            "escalation_level",
            "department__parent_id",
            "escalated_to__parent_id",
            "warning__rule__response_working_days",
        )
    )
    if not rows:
        return 0
    groups: dict[tuple[int | None, int], list[int]] = {}
    entries = []
    for pk, number, level, department_parent, escalated_parent, days in rows:
        target = escalated_parent or department_parent
        key = (target, days or int(settings.SUPERVISION_ORDER_DAYS))
        groups.setdefault(key, []).append(pk)
        entries.append(
            audit.Entry(
                "supervision:order:escalate",
                "supervision.order",
                str(pk),
                None,
                {"number": number, "to": target, "level": level + 1},
            )
        )
    with transaction.atomic():
        for (target, days), ids in groups.items():
            Order.objects.filter(pk__in=ids).update(
                status=OrderStatus.ESCALATED,
                escalated_to_id=target,
                escalation_level=F("escalation_level") + 1,
                escalated_at=now,
                card=Card.RED,
                response_deadline=order_deadline(today, days),
            )
        audit.record_many(entries, actor=engine.SYSTEM_ACTOR)
    return len(rows)


# --- rules ---------------------------------------------------------------------------------------


def update_rule(  # noqa: PLR0912
    actor: Any,
    code: str,
    *,
    enabled: bool | None = None,
    percent: int | None = None,
    max_days: int | None = None,
    response_working_days: int | None = None,
    auto_order: bool | None = None,
) -> Rule:
    """Enable / disable a rule or change its threshold (node admin only)."""
    if not (getattr(actor, "is_superuser", False) or has_role(actor, Role.NODE_ADMIN)):
        raise PermissionDenied(
            "supervision.not_node_admin",
            "只有平台管理员可以修改监察规则。",
            "Only a node admin may change rules.",
        )
    if percent is not None and not 1 <= percent <= 100:
        raise ValidationError(
            "supervision.percent", "预警比例应在1到100之间。", "percent: 1–100.", field="percent"
        )
    if max_days is not None and not 1 <= max_days <= 3650:
        raise ValidationError(
            "supervision.max_days",
            "允许暂停天数应在1到3650之间。",
            "max_days: 1–3650.",
            field="max_days",
        )
    if response_working_days is not None and not 1 <= response_working_days <= MAX_RESPONSE_DAYS:
        raise ValidationError(
            "supervision.response_days",
            f"回复期限应为1到{MAX_RESPONSE_DAYS}个工作日。",
            f"response_working_days must be 1–{MAX_RESPONSE_DAYS}.",
            field="response_working_days",
        )
    with transaction.atomic():
        rule = Rule.objects.select_for_update().filter(code=code).first()
        if rule is None:
            raise NotFound("supervision.rule_unknown", "监察规则不存在。", "No such rule.")
        if enabled and not engine.is_available(rule.code):
            raise Conflict(
                "supervision.rule_unavailable",
                "该规则所需的数据（缴费记录）尚未接入，暂不能启用。",
                "The data this rule needs (payments) does not exist yet.",
            )
        if percent is not None and rule.code != "R02":
            raise ValidationError(
                "supervision.parameter_unknown",
                "只有临近超期规则有预警比例。",
                "Only R02 has a percent.",
                field="percent",
            )
        if max_days is not None and rule.code != "R06":
            raise ValidationError(
                "supervision.parameter_unknown",
                "只有暂停计时规则有允许天数。",
                "Only R06 has max_days.",
                field="max_days",
            )
        before = {
            "enabled": rule.enabled,
            "parameters": dict(rule.parameters or {}),
            "response_working_days": rule.response_working_days,
        }
        parameters = dict(rule.parameters or {})
        if percent is not None:
            parameters["percent"] = percent
        if max_days is not None:
            parameters["max_days"] = max_days
        if auto_order is not None:
            parameters["auto_order"] = auto_order
        if enabled is not None:
            rule.enabled = enabled
        if response_working_days is not None:
            rule.response_working_days = response_working_days
        rule.parameters = parameters
        rule.updated_by = actor_ref(actor)
        rule.save()
        audit.record(
            "supervision:rule:update",
            "supervision.rule",
            rule.code,
            before=before,
            after={
                "enabled": rule.enabled,
                "parameters": parameters,
                "response_working_days": rule.response_working_days,
            },
            actor=actor_ref(actor),
        )
    return rule
