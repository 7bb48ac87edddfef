"""Read side of the indicators: who sees which scope, and every figure the API and the
dashboard show — each one an aggregate query (never a Python loop over cases or ratings).

Scopes: supervisors (监察人员), node administrators and superusers see the whole node or any
one department; other staff see the departments where they hold a role; everyone else is
refused (``indicators.forbidden``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from zwfw.core.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationError
from zwfw.core.pagination import Page, paginate
from zwfw.indicators import definitions as defs
from zwfw.indicators import rollups
from zwfw.indicators.models import (
    CatalogCounts,
    DailyRollup,
    IndicatorSnapshot,
    IndicatorWeight,
)
from zwfw.organisations.models import Department, Role

MAX_PERIOD_DAYS = 5 * 366
LEVEL_LABELS = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}
SATISFIED_LEVELS = (1, 2)  # ratings.models.SATISFIED_LEVELS
RECTIFIED_STATUSES = ("fixed", "explained", "closed")
SEVERITIES = (("yellow", "黄色预警"), ("orange", "橙色预警"), ("red", "红色预警"))
CASES_LINK = "/workbench/cases/"  # the workbench case list (HTML; status filter)
WARNINGS_LINK = "/api/v1/supervision/warnings"
ORDERS_LINK = "/api/v1/supervision/orders"
RECTIFICATIONS_LINK = "/api/v1/rectifications"


# --- scope and period ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The departments a result covers (``None``: the whole node)."""

    department_ids: tuple[int, ...] | None

    @property
    def is_node(self) -> bool:
        return self.department_ids is None

    def q(self, field: str = "department_id") -> Q:
        if self.department_ids is None:
            return Q()
        return Q(**{f"{field}__in": self.department_ids})

    def describe(self) -> dict[str, Any]:
        if self.department_ids is None:
            return {"node": True, "departments": []}
        names = dict(
            Department.objects.filter(pk__in=self.department_ids).values_list("id", "name")
        )
        return {
            "node": False,
            "departments": [{"id": pk, "name": names.get(pk, "")} for pk in self.department_ids],
        }


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    @property
    def start_at(self) -> dt.datetime:
        return rollups.day_start(self.start)

    @property
    def end_at(self) -> dt.datetime:
        return rollups.day_start(self.end + dt.timedelta(days=1))


def is_node_viewer(user: Any) -> bool:
    from zwfw.cases.services import staff_departments

    if getattr(user, "is_superuser", False):
        return True
    return bool(
        staff_departments(user, Role.SUPERVISOR) or staff_departments(user, Role.NODE_ADMIN)
    )


def viewer_scope(user: Any, department: int | None = None) -> Scope:
    """The scope ``user`` asks for (``department``) if allowed, else raises.

    Raises ``NotAuthenticated`` for anonymous users, ``PermissionDenied("indicators.forbidden")``
    for users without a staff role or asking for another department, ``NotFound`` for an
    unknown department.
    """
    from zwfw.cases.services import staff_departments

    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("auth.required", "请先登录。", "Authentication required.")
    if department is not None and not Department.objects.filter(pk=department).exists():
        raise NotFound(
            "department.unknown", "部门不存在。", "No such department.", field="department"
        )
    if is_node_viewer(user):
        return Scope(None if department is None else (department,))
    own = sorted(staff_departments(user))
    if not own or (department is not None and department not in own):
        raise PermissionDenied(
            "indicators.forbidden",
            "无权查看该范围的评估指标：监察人员和平台管理员可查看全平台，部门工作人员仅可查看本部门。",
            "Indicators are visible to supervisors and node administrators (whole node) and to "
            "department staff (their own department).",
            details={"department": department},
        )
    return Scope((department,) if department is not None else tuple(own))


_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])))?$")


def parse_period(
    start: dt.date | None = None, end: dt.date | None = None, period: str | None = None
) -> Period:
    """A period from ``period`` (``2026``, ``2026-03``, ``2026-Q1``) or from/to dates.

    Defaults: ``to`` today, ``from`` the first day of the month eleven months before ``to`` (12
    calendar months for the trend). Raises ``ValidationError`` for a malformed or reversed
    period, or one longer than five years.
    """
    if period:
        start, end = _named_period(period.strip())
    today = timezone.localdate()
    end = end or today
    if start is None:
        month = end.month - 11
        year = end.year + (month - 1) // 12
        start = dt.date(year, (month - 1) % 12 + 1, 1)
    if start > end:
        raise ValidationError(
            "indicators.period_reversed",
            "统计期的开始日期不能晚于结束日期。",
            "The period starts after it ends.",
            field="from",
            details={"from": start.isoformat(), "to": end.isoformat()},
        )
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError(
            "indicators.period_too_long",
            "统计期最长五年。",
            "A period is at most five years long.",
            field="from",
        )
    return Period(start, end)


def _named_period(text: str) -> tuple[dt.date, dt.date]:
    match = _PERIOD.match(text)
    if match is None or not (1900 < int(match.group(1)) < 2200):
        raise ValidationError(
            "indicators.period_invalid",
            f"统计期“{text[:20]}”格式不正确，应为 2026、2026-03 或 2026-Q1。",
            "The period must look like 2026, 2026-03 or 2026-Q1.",
            field="period",
        )
    year = int(match.group(1))
    if match.group(2):
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValidationError(
                "indicators.period_invalid",
                f"统计期“{text}”的月份不正确。",
                "The month of the period is not 01–12.",
                field="period",
            )
        return dt.date(year, month, 1), _month_end(year, month)
    if match.group(3):
        quarter = int(match.group(3))
        return dt.date(year, quarter * 3 - 2, 1), _month_end(year, quarter * 3)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


# --- weights -------------------------------------------------------------------------------------


def effective_weights() -> dict[str, Decimal]:
    """Default weights overlaid with the node administrator's (one query)."""
    weights = defs.default_weights()
    for code, weight in IndicatorWeight.objects.values_list("code", "weight"):
        if code in weights:
            weights[code] = weight
    return weights


def weights_out() -> list[dict[str, Any]]:
    weights = effective_weights()
    defaults = defs.default_weights()
    out = []
    for first in defs.INDICATORS:
        out.append(
            _weight_row(
                code=first.code,
                name=first.name,
                level=1,
                parent=None,
                weights=weights,
                defaults=defaults,
            )
        )
        for second in first.children:
            out.append(
                _weight_row(
                    code=second.code,
                    name=second.name,
                    level=2,
                    parent=first.code,
                    weights=weights,
                    defaults=defaults,
                )
            )
    return out


def _weight_row(
    *,
    code: str,
    name: str,
    level: int,
    parent: str | None,
    weights: dict[str, Decimal],
    defaults: dict[str, Decimal],
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent": parent,
        "weight": float(weights[code]),
        "default": float(defaults[code]),
    }


# --- the counts ----------------------------------------------------------------------------------


def catalog_counts(scope: Scope) -> dict[str, int]:
    """Counts over the published items of the scope (sums of ``CatalogCounts``, one query);
    the catalogue as it is now, not per period."""
    sums = CatalogCounts.objects.filter(scope.q()).aggregate(
        **{name: Sum(name) for name in rollups.CATALOG_FIELDS}
    )
    return {name: int(value or 0) for name, value in sums.items()}


ROLLUP_SUMS = (*rollups.CASE_FIELDS, *rollups.LEVEL_FIELDS, *rollups.WARNING_FIELDS)


def _rollups(scope: Scope, period: Period) -> QuerySet[DailyRollup]:
    return DailyRollup.objects.filter(scope.q(), day__gte=period.start, day__lte=period.end)


def rollup_counts(scope: Scope, period: Period) -> dict[str, int]:
    """Case and rating counts of the period from the daily rollups (one query)."""
    sums = _rollups(scope, period).aggregate(**{name: Sum(name) for name in ROLLUP_SUMS})
    return _with_derived({name: int(value or 0) for name, value in sums.items()})


def _with_derived(counts: dict[str, int]) -> dict[str, int]:
    counts["ratings"] = sum(counts[name] for name in rollups.LEVEL_FIELDS)
    counts["ratings_satisfied"] = sum(counts[f"level_{level}"] for level in SATISFIED_LEVELS)
    counts["warnings"] = sum(counts[name] for name in rollups.WARNING_FIELDS)
    return counts


def rectification_counts(scope: Scope, period: Period) -> dict[str, Any]:
    """Rectifications opened in the period (one per bad rating, opened when the rating was
    made), by status; those whose appeal was upheld (the rating is excluded) are left out.
    One query on the rectification table alone."""
    from zwfw.ratings.models import Rectification, RectificationStatus

    rows = (
        Rectification.objects.filter(
            scope.q(), opened_at__gte=period.start_at, opened_at__lt=period.end_at
        )
        .exclude(status=RectificationStatus.APPEAL_UPHELD)
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_status = {row["status"]: row["n"] for row in rows}
    return {
        "by_status": by_status,
        "bad": sum(by_status.values()),
        "rectified": sum(by_status.get(status, 0) for status in RECTIFIED_STATUSES),
    }


# --- the indicators ------------------------------------------------------------------------------


def _ratio(numerator: int, denominator: int, per: int = 1) -> float | None:
    if denominator <= 0:
        return None
    return round(numerator * per / denominator, 4)


def compute(scope: Scope, period: Period, *, fresh: bool = True) -> dict[str, Any]:
    """Every indicator of ``scope`` over ``period`` (see :func:`_compute`)."""
    return _compute(scope, period, fresh=fresh)[0]


def _compute(
    scope: Scope,
    period: Period,
    *,
    fresh: bool = True,
    counts: dict[str, int] | None = None,
) -> tuple[dict[str, Any], dict[str, int], dict[str, Any]]:
    """Every indicator of ``scope`` over ``period``: counts, values, scores (0–100), weights.

    An indicator whose denominator is 0 has value and score ``null`` and is left out of its
    parent's weighted mean (the other weights are re-normalised); a first-level indicator
    without any scored child is likewise left out of the total.
    """
    data_as_of = rollups.ensure_fresh() if fresh else rollups.refreshed_at()
    catalog = catalog_counts(scope)
    if counts is None:
        counts = rollup_counts(scope, period)
    rectifications = rectification_counts(scope, period)
    warnings_total = counts["warnings"]
    ceiling = settings.INDICATORS_WARNING_CEILING
    published = catalog["published"]
    fractions: dict[str, tuple[int, int, int]] = {
        "online_application_rate": (catalog["online_application"], published, 1),
        "mobile_rate": (catalog["mobile"], published, 1),
        "appointment_rate": (catalog["appointment"], published, 1),
        "delivery_rate": (catalog["delivery"], published, 1),
        "online_payment_rate": (catalog["charging_online_payment"], catalog["charging"], 1),
        "depth_iii_rate": (catalog["depth_iii"], published, 1),
        "depth_iv_rate": (catalog["depth_iv"], published, 1),
        "max_one_visit_rate": (catalog["max_one_visit"], published, 1),
        "zero_visit_item_rate": (catalog["zero_visit"], published, 1),
        "guide_complete_rate": (catalog["guide_complete"], published, 1),
        "contact_complete_rate": (catalog["contact_complete"], published, 1),
        "faq_rate": (catalog["faq"], published, 1),
        "online_submission_rate": (counts["submitted_online"], counts["submitted"], 1),
        "zero_visit_completion_rate": (counts["closed_zero_visit_online"], counts["closed"], 1),
        "electronic_delivery_rate": (counts["closed_electronic"], counts["closed"], 1),
        "on_time_rate": (counts["closed_on_time"], counts["closed_with_due"], 1),
        "satisfaction_rate": (counts["ratings_satisfied"], counts["ratings"], 1),
        "rectification_rate": (rectifications["rectified"], rectifications["bad"], 1),
        "warning_rate": (warnings_total, counts["submitted"], 1000),
    }
    weights = effective_weights()
    firsts = []
    for first in defs.INDICATORS:
        children = []
        for second in first.children:
            numerator, denominator, per = fractions[second.code]
            value = _ratio(numerator, denominator, per)
            score: float | None = None
            if value is not None:
                if second.kind == "per_mille_inverse":
                    score = 100 * max(0.0, 1 - value / ceiling) if ceiling > 0 else 0.0
                else:
                    score = 100 * value
                score = round(score, 2)
            children.append(
                {
                    "code": second.code,
                    "name": second.name,
                    "formula": second.formula,
                    "source": second.source,
                    "kind": second.kind,
                    "weight": float(weights[second.code]),
                    "numerator": numerator,
                    "denominator": denominator,
                    "value": value,
                    "score": score,
                }
            )
        firsts.append(
            {
                "code": first.code,
                "name": first.name,
                "weight": float(weights[first.code]),
                "score": _weighted(children),
                "children": children,
            }
        )
    result = {
        "scope": scope.describe(),
        "period": period.as_dict(),
        "data_as_of": data_as_of.isoformat() if data_as_of else None,
        "total_score": _weighted(firsts),
        "indicators": firsts,
        "warning_ceiling": ceiling,
    }
    return result, counts, rectifications


def _weighted(parts: Iterable[dict[str, Any]]) -> float | None:
    scored = [(part["weight"], part["score"]) for part in parts if part["score"] is not None]
    total_weight = sum(weight for weight, _score in scored)
    if not scored or total_weight <= 0:
        return None
    return round(sum(weight * score for weight, score in scored) / total_weight, 2)


# --- trend ---------------------------------------------------------------------------------------


def trend(scope: Scope, period: Period) -> list[dict[str, Any]]:
    """Per calendar month of the period: cases, on-time rate and satisfaction (one query)."""
    rows = (
        _rollups(scope, period)
        .values("month")
        .annotate(**{name: Sum(name) for name in ROLLUP_SUMS})
        .order_by("month")
    )
    by_month = {
        _as_date(row.pop("month")).strftime("%Y-%m"): {k: int(v or 0) for k, v in row.items()}
        for row in rows
    }
    return _trend_rows(by_month, period)


def _trend_rows(by_month: dict[str, dict[str, int]], period: Period) -> list[dict[str, Any]]:
    out = []
    year, month = period.start.year, period.start.month
    while (year, month) <= (period.end.year, period.end.month):
        key = f"{year:04d}-{month:02d}"
        row = by_month.get(key, {})
        ratings = sum(row.get(name, 0) for name in rollups.LEVEL_FIELDS)
        satisfied = sum(row.get(f"level_{level}", 0) for level in SATISFIED_LEVELS)
        out.append(
            {
                "month": key,
                "submitted": row.get("submitted", 0),
                "closed": row.get("closed", 0),
                "closed_with_due": row.get("closed_with_due", 0),
                "closed_on_time": row.get("closed_on_time", 0),
                "on_time_rate": _ratio(row.get("closed_on_time", 0), row.get("closed_with_due", 0)),
                "ratings": ratings,
                "satisfied": satisfied,
                "satisfaction_rate": _ratio(satisfied, ratings),
            }
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _month_department_sums(
    scope: Scope, period: Period
) -> tuple[dict[str, int], dict[str, dict[str, int]], list[dict[str, Any]]]:
    """One query over the rollups grouped by (month, department), folded three ways: the
    period's totals, per month (the trend) and per department (the comparison)."""
    rows = (
        _rollups(scope, period)
        .values("month", "department_id", "department__name")
        .annotate(**{name: Sum(name) for name in ROLLUP_SUMS})
        .order_by()
    )
    totals = dict.fromkeys(ROLLUP_SUMS, 0)
    by_month: dict[str, dict[str, int]] = {}
    by_department: dict[int, dict[str, Any]] = {}
    for row in rows:
        sums = {name: int(row[name] or 0) for name in ROLLUP_SUMS}
        month = by_month.setdefault(
            _as_date(row["month"]).strftime("%Y-%m"), dict.fromkeys(ROLLUP_SUMS, 0)
        )
        department = by_department.setdefault(
            row["department_id"],
            {"name": row["department__name"], **dict.fromkeys(ROLLUP_SUMS, 0)},
        )
        for name, value in sums.items():
            totals[name] += value
            month[name] += value
            department[name] += value
    departments = [
        _department_row(pk, values.pop("name"), values)
        for pk, values in sorted(by_department.items())
    ]
    return _with_derived(totals), by_month, departments


def _as_date(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# --- the dashboard -------------------------------------------------------------------------------


def _query(**params: Any) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in params.items() if v is not None})


def dashboard(scope: Scope, period: Period) -> dict[str, Any]:
    """Everything the dashboard page draws, in one structure (the API returns it as is)."""
    from zwfw.ratings.models import RectificationStatus
    from zwfw.supervision.models import Card, Order, OrderStatus, Warning

    rollups.ensure_fresh()
    counts, by_month, per_department = _month_department_sums(scope, period)
    indicators, _counts, rectifications = _compute(scope, period, fresh=False, counts=counts)
    # Still open: the (status, severity) index reads only the open warnings.
    open_rows = (
        Warning.objects.filter(
            scope.q(), status="open", raised_at__gte=period.start_at, raised_at__lt=period.end_at
        )
        .values("severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    still_open = {row["severity"]: row["n"] for row in open_rows}
    warning_departments = sorted(
        (row for row in per_department if row["warnings"] > 0),
        key=lambda row: (-row["warnings"], row["department_id"]),
    )[:20]
    orders_q = Order.objects.filter(
        scope.q(), issued_at__gte=period.start_at, issued_at__lt=period.end_at
    )
    order_rows = {
        (row["status"], row["card"]): row["n"]
        for row in orders_q.values("status", "card").annotate(n=Count("id")).order_by()
    }
    scope_param = _scope_param(scope)
    return {
        "scope": indicators["scope"],
        "period": indicators["period"],
        "data_as_of": indicators["data_as_of"],
        "indicators": indicators,
        "trend": _trend_rows(by_month, period),
        "warnings": {
            "total": counts["warnings"],
            "by_severity": [
                {
                    "severity": code,
                    "label": label,
                    "total": counts[f"warnings_{code}"],
                    "open": still_open.get(code, 0),
                    "link": f"{WARNINGS_LINK}?{_query(severity=code, **scope_param)}",
                }
                for code, label in SEVERITIES
            ],
            "by_department": [
                {
                    "department_id": row["department_id"],
                    "department": row["department"],
                    "total": row["warnings"],
                    **{code: row[f"warnings_{code}"] for code, _label in SEVERITIES},
                    "link": f"{WARNINGS_LINK}?{_query(department=row['department_id'])}",
                }
                for row in warning_departments
            ],
        },
        "orders": {
            "total": sum(order_rows.values()),
            "by_status": [
                {
                    "status": status.value,
                    "label": status.label,
                    "count": sum(n for (s, _c), n in order_rows.items() if s == status.value),
                    "link": f"{ORDERS_LINK}?{_query(status=status.value, **scope_param)}",
                }
                for status in OrderStatus
            ],
            "by_card": [
                {
                    "card": card.value,
                    "label": card.label,
                    "count": sum(n for (_s, c), n in order_rows.items() if c == card.value),
                }
                for card in Card
            ],
        },
        "ratings": {
            "total": counts["ratings"],
            "satisfied": counts["ratings_satisfied"],
            "satisfaction_rate": _ratio(counts["ratings_satisfied"], counts["ratings"]),
            "levels": [
                {"level": level, "label": label, "count": counts[f"level_{level}"]}
                for level, label in LEVEL_LABELS.items()
            ],
        },
        "rectifications": {
            "total": rectifications["bad"],
            "rectified": rectifications["rectified"],
            "rate": _ratio(rectifications["rectified"], rectifications["bad"]),
            "by_status": [
                {
                    "status": status.value,
                    "label": status.label,
                    "count": rectifications["by_status"].get(status.value, 0),
                    "link": f"{RECTIFICATIONS_LINK}?"
                    + _query(status=status.value, department_id=scope_param.get("department")),
                }
                for status in RectificationStatus
            ],
        },
        "cases": {
            "submitted": counts["submitted"],
            "closed": counts["closed"],
            "closed_with_due": counts["closed_with_due"],
            "closed_on_time": counts["closed_on_time"],
            "closed_late": counts["closed_with_due"] - counts["closed_on_time"],
            "links": {
                "closed": f"{CASES_LINK}?{_query(status='closed')}",
                "open": f"{CASES_LINK}?{_query(status='in_progress')}",
            },
        },
        "departments": (
            [{key: row[key] for key in DEPARTMENT_COLUMNS} for row in per_department]
            if _many(scope)
            else []
        ),
        "snapshots": snapshots(scope),
    }


def _scope_param(scope: Scope) -> dict[str, Any]:
    if scope.department_ids is not None and len(scope.department_ids) == 1:
        return {"department": scope.department_ids[0]}
    return {}


def _many(scope: Scope) -> bool:
    return scope.department_ids is None or len(scope.department_ids) > 1


DEPARTMENT_COLUMNS = (
    "department_id",
    "department",
    "submitted",
    "closed",
    "on_time_rate",
    "ratings",
    "satisfaction_rate",
    "warnings",
)


def _department_row(pk: int, name: str, sums: dict[str, int]) -> dict[str, Any]:
    ratings = sum(sums[field] for field in rollups.LEVEL_FIELDS)
    satisfied = sum(sums[f"level_{level}"] for level in SATISFIED_LEVELS)
    return {
        "department_id": pk,
        "department": name,
        "submitted": sums["submitted"],
        "closed": sums["closed"],
        "on_time_rate": _ratio(sums["closed_on_time"], sums["closed_with_due"]),
        "ratings": ratings,
        "satisfaction_rate": _ratio(satisfied, ratings),
        "warnings": sum(sums[field] for field in rollups.WARNING_FIELDS),
        **{field: sums[field] for field in rollups.WARNING_FIELDS},
    }


def snapshots(scope: Scope, limit: int = 12) -> list[dict[str, Any]]:
    """The scope's last stored snapshots, oldest first (for the score trend)."""
    queryset = IndicatorSnapshot.objects.all()
    if scope.department_ids is None:
        queryset = queryset.filter(department__isnull=True)
    elif len(scope.department_ids) == 1:
        queryset = queryset.filter(department_id=scope.department_ids[0])
    else:
        return []
    rows = queryset.order_by("-period_to", "-id").values(
        "id", "period_from", "period_to", "total_score", "computed_at"
    )[:limit]
    return [
        {
            "id": row["id"],
            "period_from": row["period_from"].isoformat(),
            "period_to": row["period_to"].isoformat(),
            "total_score": float(row["total_score"]) if row["total_score"] is not None else None,
            "computed_at": row["computed_at"].isoformat(),
        }
        for row in reversed(list(rows))
    ]


def list_snapshots(scope: Scope, *, cursor: str | None, limit: int) -> Page[IndicatorSnapshot]:
    """Stored snapshots of ``scope`` (the node's, one department's, or several departments')."""
    queryset = IndicatorSnapshot.objects.all()
    if scope.department_ids is None:
        queryset = queryset.filter(department__isnull=True)
    else:
        queryset = queryset.filter(department_id__in=scope.department_ids)
    return paginate(queryset, ("id",), cursor, limit)
