"""Writes of the indicators app: weights (node administrators) and stored snapshots.

Each function checks the actor's right, runs in one transaction and writes an audit record;
nothing changes when it raises.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from zwfw.core import audit
from zwfw.core.errors import PermissionDenied, ValidationError
from zwfw.indicators import definitions as defs
from zwfw.indicators import selectors
from zwfw.indicators.models import IndicatorSnapshot, IndicatorWeight
from zwfw.organisations.models import Role
from zwfw.organisations.selectors import has_role

MAX_WEIGHT = Decimal(1000)


def _actor_ref(user: Any) -> str:
    return f"user:{user.pk}" if getattr(user, "pk", None) else "system"


def _clean_weight(code: str, value: Any) -> Decimal:
    try:
        weight = Decimal(str(value))
    except (InvalidOperation, ValueError):
        weight = Decimal(-1)
    if not weight.is_finite() or weight < 0 or weight > MAX_WEIGHT:
        raise ValidationError(
            "indicators.weight_invalid",
            f"指标“{defs.name_of(code)}”的权重应为0到1000之间的数。",
            f"The weight of {code} must be a number from 0 to 1000.",
            field=code,
            details={"code": code},
        )
    return weight.quantize(Decimal("0.01"))


def set_weights(actor: Any, weights: dict[str, Any]) -> dict[str, Decimal]:
    """Set the weights of the given indicator codes (others keep theirs); node_admin only.

    Raises ``PermissionDenied("indicators.weights_forbidden")``, ``ValidationError`` with
    ``indicators.weight_unknown`` (a code not in the tree), ``indicators.weight_invalid`` (not
    0–1000) or ``indicators.weights_zero`` (the first-level weights, or the children of one
    first-level indicator, would all be 0).
    """
    if not has_role(actor, Role.NODE_ADMIN):
        raise PermissionDenied(
            "indicators.weights_forbidden",
            "只有平台管理员可以调整指标权重。",
            "Only node administrators change indicator weights.",
        )
    if not weights:
        raise ValidationError(
            "indicators.weights_empty", "请至少提交一个指标权重。", "No weights given."
        )
    unknown = sorted(code for code in weights if code not in defs.ALL_CODES)
    if unknown:
        raise ValidationError(
            "indicators.weight_unknown",
            f"未知的指标代码：{'、'.join(unknown[:10])}。",
            "Unknown indicator code(s).",
            details={"codes": unknown[:50]},
        )
    cleaned = {code: _clean_weight(code, value) for code, value in weights.items()}
    with transaction.atomic():
        before = selectors.effective_weights()
        after = {**before, **cleaned}
        groups = [("first_level", [first.code for first in defs.INDICATORS])] + [
            (first.code, [second.code for second in first.children]) for first in defs.INDICATORS
        ]
        for group, codes in groups:
            if sum(after[code] for code in codes) <= 0:
                raise ValidationError(
                    "indicators.weights_zero",
                    "同一层级的指标权重不能全部为0。"
                    if group == "first_level"
                    else f"“{defs.name_of(group)}”的二级指标权重不能全部为0。",
                    "The weights of one level (or of one indicator's children) cannot all be 0.",
                    details={"group": group},
                )
        changed = {code: w for code, w in cleaned.items() if before[code] != w}
        for code, weight in changed.items():
            IndicatorWeight.objects.update_or_create(
                code=code, defaults={"weight": weight, "updated_by": _actor_ref(actor)}
            )
        if changed:
            audit.record(
                "indicators:weights:update",
                "indicators.weights",
                "node",
                before={code: before[code] for code in changed},
                after=changed,
                actor=_actor_ref(actor),
            )
    return after


def take_snapshot(
    actor: Any, scope: selectors.Scope, period: selectors.Period
) -> IndicatorSnapshot:
    """Compute and store the indicators of ``scope`` and ``period`` (supervisors, node admins).

    ``actor`` None means the system (the monthly task). Raises ``PermissionDenied`` for other
    users and ``ValidationError("indicators.snapshot_scope")`` for a scope of several
    departments (a snapshot is the node's or one department's).
    """
    if actor is not None and not selectors.is_node_viewer(actor):
        raise PermissionDenied(
            "indicators.snapshot_forbidden",
            "只有监察人员和平台管理员可以保存指标快照。",
            "Only supervisors and node administrators store indicator snapshots.",
        )
    ids = scope.department_ids
    if ids is not None and len(ids) != 1:
        raise ValidationError(
            "indicators.snapshot_scope",
            "快照只能针对全平台或单个部门。",
            "A snapshot covers the node or one department.",
        )
    result = selectors.compute(scope, period)
    with transaction.atomic():
        snapshot = IndicatorSnapshot.objects.create(
            period_from=period.start,
            period_to=period.end,
            department_id=ids[0] if ids else None,
            total_score=(
                Decimal(str(result["total_score"])) if result["total_score"] is not None else None
            ),
            result=result,
            computed_at=timezone.now(),
            computed_by=_actor_ref(actor),
        )
        audit.record(
            "indicators:snapshot:create",
            "indicators.snapshot",
            snapshot.pk,
            after={
                "period": result["period"],
                "department": snapshot.department_id,
                "total_score": result["total_score"],
            },
            actor=_actor_ref(actor),
        )
    return snapshot


def snapshot_last_month(today: dt.date | None = None) -> int:
    """The monthly task: store last month's node snapshot (and one per department with data).

    Idempotent: a scope whose snapshot of that month exists is skipped. Returns how many
    snapshots were stored.
    """
    from zwfw.indicators.models import DailyRollup

    today = today or timezone.localdate()
    end = today.replace(day=1) - dt.timedelta(days=1)
    period = selectors.Period(end.replace(day=1), end)
    existing = set(
        IndicatorSnapshot.objects.filter(
            period_from=period.start, period_to=period.end
        ).values_list("department_id", flat=True)
    )
    departments = (
        DailyRollup.objects.filter(day__gte=period.start, day__lte=period.end)
        .values_list("department_id", flat=True)
        .distinct()
        .order_by("department_id")
    )
    stored = 0
    for department in [None, *departments]:
        if department in existing:
            continue
        scope = selectors.Scope(None if department is None else (department,))
        take_snapshot(None, scope, period)
        stored += 1
    return stored
