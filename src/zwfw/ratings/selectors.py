"""Read queries over ratings and rectifications, each restricted to what the viewer may see.

- Department staff (any role) see the ratings and rectifications of their departments.
- Supervisors (监察人员) see the whole node's.
- Citizens see none through these lists (their own rating comes back when they submit it);
  the public sees only :func:`statistics` — counts, no personal data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.db.models import Count, Model, Q, QuerySet
from django.utils import timezone

from zwfw.cases.services import staff_departments
from zwfw.catalog.models import Item
from zwfw.core import audit
from zwfw.core import calendar as cal
from zwfw.core.errors import NotFound, PermissionDenied, ValidationError
from zwfw.core.pagination import Page, check_limit, decode_cursor, encode_cursor
from zwfw.organisations.models import Department
from zwfw.ratings.models import (
    AWAITING_DEPARTMENT,
    BAD_LEVELS,
    GOOD_LEVELS,
    SATISFIED_LEVELS,
    Level,
    Rating,
    RatingKind,
    Rectification,
    RectificationStatus,
)
from zwfw.ratings.services import is_supervisor

M = TypeVar("M", bound=Model)
MAX_SPAN_DAYS = 3660


def _visible_departments(user: Any) -> list[int] | None:
    """None: everything (supervisor); else the departments where the user holds any role."""
    if is_supervisor(user):
        return None
    departments = staff_departments(user)
    if not departments:
        raise PermissionDenied(
            "ratings.staff_only",
            "只有部门工作人员和监察人员可以查看评价与整改。",
            "Only department staff and supervisors may read ratings and rectifications.",
        )
    return departments


def _newest_first(queryset: QuerySet[M], cursor: str | None, limit: int) -> Page[M]:
    check_limit(limit)
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, int):
            raise ValidationError(
                "pagination.cursor", "分页游标无效。", "Invalid cursor.", field="cursor"
            )
        queryset = queryset.filter(pk__lt=last)
    rows = list(queryset.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor([rows[-1].pk]) if more and rows else None)


def _day_range(
    date_from: dt.date | None, date_to: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    if date_from and date_to and date_from > date_to:
        raise ValidationError(
            "ratings.date_range",
            "开始日期不能晚于结束日期。",
            "from must not be after to.",
            field="from",
        )
    if date_from and date_to and (date_to - date_from).days > MAX_SPAN_DAYS:
        raise ValidationError(
            "ratings.date_range", "统计区间不能超过十年。", "The span is at most ten years."
        )
    start = dt.datetime.combine(date_from, dt.time.min, cal.SHANGHAI) if date_from else None
    end = (
        dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, cal.SHANGHAI)
        if date_to
        else None
    )
    return start, end


def ratings_for_staff(
    user: Any,
    *,
    department_id: int | None = None,
    level: int | None = None,
    kind: str | None = None,
    bad_only: bool = False,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[Rating]:
    departments = _visible_departments(user)
    queryset = Rating.objects.select_related("department", "item", "case", "rectification").defer(
        "case__workflow_state", "case__form_data"
    )
    if departments is not None:
        queryset = queryset.filter(department_id__in=departments)
    if department_id is not None:
        queryset = queryset.filter(department_id=department_id)
    if level is not None:
        if level not in Level.values:
            raise ValidationError(
                "ratings.level", "评价等级应为1到5。", "level must be 1 … 5.", field="level"
            )
        queryset = queryset.filter(level=level)
    if kind:
        if kind not in RatingKind.values:
            raise ValidationError(
                "ratings.kind", "评价类型应为 case 或 visit。", "kind: case or visit.", field="kind"
            )
        queryset = queryset.filter(kind=kind)
    if bad_only:
        queryset = queryset.filter(level__in=BAD_LEVELS)
    start, end = _day_range(date_from, date_to)
    if start:
        queryset = queryset.filter(created_at__gte=start)
    if end:
        queryset = queryset.filter(created_at__lt=end)
    return _newest_first(queryset, cursor, limit)


def my_ratings(user: Any, *, cursor: str | None = None, limit: int = 20) -> Page[Rating]:
    """The ratings ``user`` gave while signed in (QR ratings are anonymous)."""
    queryset = Rating.objects.filter(rater_id=user.pk).select_related(
        "department", "item", "case", "rectification"
    )
    return _newest_first(queryset.defer("case__workflow_state", "case__form_data"), cursor, limit)


def case_rating(case: Any) -> Rating | None:
    """The case's 一事一评 rating, if any."""
    return (
        Rating.objects.filter(kind=RatingKind.CASE, case=case)
        .select_related("department", "item", "case", "rectification")
        .first()
    )


def overdue_q(today: dt.date) -> Q:
    """Rectifications past their deadline: the department has not answered within its working
    days, or a 限期整改 is not closed by its ledger deadline (decision 0020)."""
    return Q(status__in=[s.value for s in AWAITING_DEPARTMENT], deadline__lt=today) | Q(
        status=RectificationStatus.LEDGER, ledger_deadline__lt=today
    )


def overdue_rectifications(today: dt.date) -> QuerySet[Rectification]:
    """Every overdue rectification of the node (for a sweep or the supervision rules)."""
    return (
        Rectification.objects.filter(overdue_q(today))
        .select_related("department", "rating")
        .order_by("deadline", "pk")
    )


def _rectifications(user: Any) -> QuerySet[Rectification]:
    departments = _visible_departments(user)
    queryset = Rectification.objects.select_related(
        "department", "rating", "rating__department", "rating__item", "rating__case"
    ).defer("rating__case__workflow_state", "rating__case__form_data")
    if departments is not None:
        queryset = queryset.filter(department_id__in=departments)
    return queryset


def rectifications_for_staff(
    user: Any,
    *,
    status: str | None = None,
    overdue: bool | None = None,
    department_id: int | None = None,
    today: dt.date | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[Rectification]:
    queryset = _rectifications(user)
    if status:
        if status not in RectificationStatus.values:
            raise ValidationError(
                "ratings.status",
                f"整改状态“{status[:20]}”无效。",
                "Unknown status.",
                field="status",
                details={"allowed": list(RectificationStatus.values)},
            )
        queryset = queryset.filter(status=status)
    if department_id is not None:
        queryset = queryset.filter(department_id=department_id)
    if overdue is not None:
        condition = overdue_q(today or cal.local_date(timezone.now()))
        queryset = queryset.filter(condition) if overdue else queryset.exclude(condition)
    return _newest_first(queryset, cursor, limit)


def rectification_for_staff(
    user: Any, rect_id: int, *, purpose: str = "rectification"
) -> Rectification:
    rect = _rectifications(user).filter(pk=rect_id).first()
    if rect is None:
        raise NotFound(
            "ratings.rectification_unknown", "整改记录不存在。", "Unknown rectification."
        )
    # The rater's words (and, for named raters, a masked contact) are personal data.
    audit.record_read("ratings.rating", rect.rating_id, purpose=purpose, fields=["text", "rater"])
    return rect


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def statistics(
    *,
    department_id: int | None = None,
    item_code: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> dict[str, Any]:
    """Public counts per level and the three rates, in one aggregate query (decision 0020):

    * satisfaction_rate = (非常满意 + 满意) / all
    * good_rate (好评率) = (非常满意 + 满意 + 基本满意) / all
    * rectification_rate = bad ratings whose rectification is closed / bad ratings

    Ratings excluded by an upheld appeal are not counted anywhere.
    """
    queryset = Rating.objects.filter(excluded=False)
    department = item = None
    if department_id is not None:
        department = Department.objects.filter(pk=department_id).only("pk", "name").first()
        if department is None:
            raise NotFound("ratings.department_unknown", "部门不存在。", "Unknown department.")
        queryset = queryset.filter(department_id=department_id)
    if item_code:
        item = Item.objects.filter(implementation_code=item_code).only("pk", "name").first()
        if item is None:
            raise NotFound("ratings.item_unknown", "事项不存在。", "Unknown item.")
        queryset = queryset.filter(item_id=item.pk)
    start, end = _day_range(date_from, date_to)
    if start:
        queryset = queryset.filter(created_at__gte=start)
    if end:
        queryset = queryset.filter(created_at__lt=end)
    counts = queryset.aggregate(
        total=Count("pk"),
        **{f"level_{lv}": Count("pk", filter=Q(level=lv)) for lv in Level.values},
        rectified=Count(
            "pk",
            filter=Q(level__in=BAD_LEVELS, rectification__status=RectificationStatus.CLOSED),
        ),
    )
    total = counts["total"]
    by_level = {str(lv): counts[f"level_{lv}"] for lv in Level.values}
    satisfied = sum(by_level[str(lv)] for lv in SATISFIED_LEVELS)
    good = sum(by_level[str(lv)] for lv in GOOD_LEVELS)
    bad = sum(by_level[str(lv)] for lv in BAD_LEVELS)
    return {
        "department_id": department.pk if department else None,
        "department": department.name if department else None,
        "item_code": item_code or None,
        "item_name": item.name if item else None,
        "from": date_from,
        "to": date_to,
        "total": total,
        "by_level": by_level,
        "satisfied": satisfied,
        "good": good,
        "bad": bad,
        "rectified": counts["rectified"],
        "satisfaction_rate": _rate(satisfied, total),
        "good_rate": _rate(good, total),
        "bad_rate": _rate(bad, total),
        "rectification_rate": _rate(counts["rectified"], bad),
    }
