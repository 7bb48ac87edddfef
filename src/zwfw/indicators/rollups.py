"""Per-day, per-department rollups of cases and ratings (``DailyRollup``).

Each row is computed by GROUP BY queries (never a Python loop over cases):

* submitted, submitted_online — cases by the Beijing-time day of ``submitted_at``;
* closed, closed_with_due, closed_on_time, closed_zero_visit_online, closed_electronic —
  cases with status ``closed`` by the day of ``closed_at``;
* level_1 … level_5 — ratings not excluded (申诉成立) by the day of ``created_at``;
* warnings_yellow, warnings_orange, warnings_red — supervision warnings by the day of
  ``raised_at``.

With them, ``CatalogCounts`` (per department, over the published items) is recomputed when an
item changed since its last computation.

A refresh recomputes whole days: it deletes the days' rows and writes them again in one
transaction. For a window ending today it reads only the cases with ``updated_at`` at or after
the window's first midnight (``updated_at`` is indexed and never earlier than ``submitted_at``
or ``closed_at``), so keeping the table current costs a small index range, not a scan.

Freshness: :func:`ensure_fresh` (called by the API and the dashboard) refreshes from the day of
the previous refresh minus ``ZWFW_INDICATORS_ROLLUP_LOOKBACK_DAYS`` (ratings excluded later by
an upheld appeal leave their day's count) when the table is older than
``ZWFW_INDICATORS_ROLLUP_MAX_AGE`` seconds; ``zwfw indicators_refresh`` rebuilds everything.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DateField, Exists, F, Func, OuterRef, Q, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from zwfw.indicators.models import CatalogCounts, DailyRollup, RollupState

CASE_FIELDS = (
    "submitted",
    "submitted_online",
    "closed",
    "closed_with_due",
    "closed_on_time",
    "closed_zero_visit_online",
    "closed_electronic",
)
LEVEL_FIELDS = ("level_1", "level_2", "level_3", "level_4", "level_5")
WARNING_FIELDS = ("warnings_yellow", "warnings_orange", "warnings_red")
ONLINE_CHANNEL = "2"  # 网上申报 (cases.SubmitChannel.ONLINE)


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _fixed_offset_minutes() -> int | None:
    """The zone's UTC offset in minutes if it has had one offset this year and last (Asia/
    Shanghai: +480 since 1991), else None."""
    tz = local_tz()
    year = timezone.now().year
    offsets = {tz.utcoffset(dt.datetime(y, m, 1)) for y in (year - 1, year) for m in (1, 4, 7, 10)}
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return int(offset.total_seconds() // 60) if offset is not None else None


def local_day(field: str) -> Any:
    """The Beijing-time date of a timestamp column, as SQL.

    PostgreSQL: ``(col AT TIME ZONE 'Asia/Shanghai')::date`` (Django's ``TruncDate``). SQLite:
    ``TruncDate`` is a Python function called per row (a full rebuild at 20,000 cases took 5 s),
    so for a zone with one fixed offset the native ``date(col, '+480 minutes')`` is used.
    """

    minutes = _fixed_offset_minutes() if connection.vendor == "sqlite" else None
    if minutes is None:
        return TruncDate(field, tzinfo=local_tz())
    return Func(F(field), Value(f"{minutes:+d} minutes"), function="date", output_field=DateField())


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_tz())


def _case_rows(start: dt.datetime | None, end: dt.datetime) -> list[dict[str, Any]]:
    from zwfw.cases.models import Case, CaseStatus, DeliveryMethod

    cases = Case.objects.all()
    if start is not None:
        cases = cases.filter(updated_at__gte=start)
    submitted = cases.filter(submitted_at__lt=end)
    closed = cases.filter(status=CaseStatus.CLOSED, closed_at__lt=end)
    if start is not None:
        submitted = submitted.filter(submitted_at__gte=start)
        closed = closed.filter(closed_at__gte=start)
    else:
        submitted = submitted.filter(submitted_at__isnull=False)
        closed = closed.filter(closed_at__isnull=False)
    rows = list(
        submitted.annotate(day=local_day("submitted_at"))
        .values("day", "department_id")
        .annotate(
            submitted=Count("id"),
            submitted_online=Count("id", filter=Q(channel=ONLINE_CHANNEL)),
        )
        .order_by()
    )
    rows += list(
        closed.annotate(day=local_day("closed_at"))
        .values("day", "department_id")
        .annotate(
            closed=Count("id"),
            closed_with_due=Count("id", filter=Q(due_date__isnull=False)),
            closed_on_time=Count("id", filter=Q(due_date__isnull=False, day__lte=F("due_date"))),
            closed_zero_visit_online=Count(
                "id", filter=Q(channel=ONLINE_CHANNEL, item__site_visits=0)
            ),
            closed_electronic=Count("id", filter=Q(delivery_method=DeliveryMethod.ELECTRONIC)),
        )
        .order_by()
    )
    return rows


def _rating_rows(start: dt.datetime | None, end: dt.datetime) -> list[dict[str, Any]]:
    from zwfw.ratings.models import Rating

    ratings = Rating.objects.filter(excluded=False, created_at__lt=end)
    if start is not None:
        ratings = ratings.filter(created_at__gte=start)
    return list(
        ratings.annotate(day=local_day("created_at"))
        .values("day", "department_id")
        .annotate(
            **{
                f"level_{level}": Count("id", filter=Q(level=level))
                for level in range(1, len(LEVEL_FIELDS) + 1)
            }
        )
        .order_by()
    )


def _warning_rows(start: dt.datetime | None, end: dt.datetime) -> list[dict[str, Any]]:
    from zwfw.supervision.models import Warning

    warnings = Warning.objects.filter(raised_at__lt=end)
    if start is not None:
        warnings = warnings.filter(raised_at__gte=start)
    return list(
        warnings.annotate(day=local_day("raised_at"))
        .values("day", "department_id")
        .annotate(
            **{
                name: Count("id", filter=Q(severity=name.removeprefix("warnings_")))
                for name in WARNING_FIELDS
            }
        )
        .order_by()
    )


CATALOG_FIELDS = (
    "published",
    "online_application",
    "mobile",
    "appointment",
    "delivery",
    "charging",
    "charging_online_payment",
    "depth_iii",
    "depth_iv",
    "max_one_visit",
    "zero_visit",
    "guide_complete",
    "contact_complete",
    "faq",
)
#: 办事指南必备要素 (docs/indicators.md): text elements and list elements that must not be empty.
REQUIRED_GUIDE_TEXT = ("conditions", "place", "hours", "consult_phone", "complaint_phone")
REQUIRED_GUIDE_LISTS = ("process_steps", "materials")


def _filled(key: str, empty: Any) -> Q:
    path = f"current_version__content__{key}"
    return Q(**{f"{path}__isnull": False}) & ~Q(**{path: empty})


def catalog_rows() -> list[dict[str, Any]]:
    """Per department, the counts over its published items (one GROUP BY query)."""
    from zwfw.catalog.models import Item, ItemFacet, ItemStatus

    channel = ItemFacet.objects.filter(item=OuterRef("pk"), facet="channel")
    content = "current_version__content__"
    complete = Q()
    for key in REQUIRED_GUIDE_TEXT:
        complete &= _filled(key, "")
    for key in REQUIRED_GUIDE_LISTS:
        complete &= _filled(key, [])
    return list(
        Item.objects.filter(status=ItemStatus.PUBLISHED)
        .annotate(
            has_online=Exists(channel.filter(value__in=("2", "3"))),
            has_mobile=Exists(channel.filter(value="3")),
        )
        .values("department_id")
        .annotate(
            published=Count("id"),
            online_application=Count("id", filter=Q(has_online=True)),
            mobile=Count("id", filter=Q(has_mobile=True)),
            appointment=Count("id", filter=Q(**{f"{content}supports_appointment": True})),
            delivery=Count("id", filter=Q(**{f"{content}supports_delivery": True})),
            charging=Count("id", filter=Q(charges_fee=True)),
            charging_online_payment=Count(
                "id", filter=Q(charges_fee=True, **{f"{content}supports_online_payment": True})
            ),
            depth_iii=Count("id", filter=Q(online_depth__in=("III", "IV"))),
            depth_iv=Count("id", filter=Q(online_depth="IV")),
            max_one_visit=Count("id", filter=Q(site_visits__lte=1)),
            zero_visit=Count("id", filter=Q(site_visits=0)),
            guide_complete=Count("id", filter=complete),
            contact_complete=Count(
                "id", filter=_filled("consult_phone", "") & _filled("complaint_phone", "")
            ),
            faq=Count("id", filter=_filled("faqs", [])),
        )
        .order_by()
    )


def refresh_catalog(state: RollupState | None, *, force: bool = False) -> bool:
    """Recompute ``CatalogCounts`` when an item changed since the last time (or ``force``)."""
    from django.db.models import Max

    from zwfw.catalog.models import Item

    last_change = Item.objects.aggregate(last=Max("updated_at"))["last"]
    done = state.catalog_refreshed_at if state is not None else None
    if not force and done is not None and (last_change is None or last_change <= done):
        return False
    started = timezone.now()
    rows = catalog_rows()
    CatalogCounts.objects.all().delete()
    CatalogCounts.objects.bulk_create(
        [CatalogCounts(department_id=row.pop("department_id"), **row) for row in rows]
    )
    if state is not None:
        state.catalog_refreshed_at = started
        state.save(update_fields=["catalog_refreshed_at"])
    return True


def refresh(
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
    *,
    cases_from: dt.date | None = None,
) -> int:
    """Recompute the rollup rows of ``day_from`` … ``day_to`` (everything when ``day_from`` is
    None; ``day_to`` defaults to today). Returns the number of rows written.

    ``cases_from`` (a day after ``day_from``): the case columns of the days before it are kept
    as stored — they cannot have changed when no case was updated since that day (a case
    counts on its submission day, which is past, and on its closing day) — and only the
    ratings and warnings of those days are recounted. That keeps the case query to the cases
    updated since ``cases_from`` (the look-back is for ratings excluded later).
    """
    today = timezone.localdate()
    day_to = day_to or today
    start = day_start(day_from) if day_from is not None else None
    end = day_start(day_to + dt.timedelta(days=1))
    if cases_from is not None and (day_from is None or cases_from <= day_from):
        cases_from = None
    with transaction.atomic():
        state = _locked_state(wait=True)
        merged: dict[tuple[dt.date, int], dict[str, int]] = defaultdict(dict)
        if cases_from is None:
            case_rows = _case_rows(start, end)
        else:
            case_rows = _case_rows(day_start(cases_from), end)
            kept = DailyRollup.objects.filter(day__gte=day_from, day__lt=cases_from).values(
                "day", "department_id", *CASE_FIELDS
            )
            case_rows += [row for row in kept if any(row[name] for name in CASE_FIELDS)]
        for row in case_rows + _rating_rows(start, end) + _warning_rows(start, end):
            key = (row.pop("day"), row.pop("department_id"))
            merged[key].update(row)
        stale = DailyRollup.objects.filter(day__lte=day_to)
        if day_from is not None:
            stale = stale.filter(day__gte=day_from)
        stale.delete()
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(day=day, month=month_of(day), department_id=department, **counts)
                for (day, department), counts in merged.items()
            ],
            batch_size=2000,
        )
        refresh_catalog(state, force=day_from is None)
        if day_from is None and connection.vendor == "postgresql":
            # After a rebuild the planner's row estimates are stale (autovacuum comes later).
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {DailyRollup._meta.db_table}")
        if state is not None and day_to >= today:
            state.refreshed_at = timezone.now()
            if day_from is None:
                state.covered_from = None
            state.save(update_fields=["refreshed_at", "covered_from"])
    return len(merged)


def _locked_state(*, wait: bool) -> RollupState | None:
    """The state row, locked for this transaction (None: another refresh holds it)."""
    RollupState.objects.get_or_create(pk=1)
    queryset = RollupState.objects.filter(pk=1)
    if wait:
        return queryset.select_for_update().first()
    return queryset.select_for_update(skip_locked=True).first()


def refreshed_at() -> dt.datetime | None:
    return RollupState.objects.filter(pk=1).values_list("refreshed_at", flat=True).first()


def ensure_fresh() -> dt.datetime | None:
    """Bring the rollups up to date when older than the configured age; returns the time of
    the data. A refresh already running elsewhere is not waited for (its data is read)."""
    max_age = dt.timedelta(seconds=settings.INDICATORS_ROLLUP_MAX_AGE)
    last = refreshed_at()
    now = timezone.now()
    if last is not None and now - last <= max_age:
        return last
    if last is None:
        refresh()
        return refreshed_at()
    lookback = dt.timedelta(days=settings.INDICATORS_ROLLUP_LOOKBACK_DAYS)
    last_day = timezone.localdate(last)
    day_from = min(last_day, timezone.localdate(now) - lookback)
    with transaction.atomic():
        if _locked_state(wait=False) is None:
            return last
        refresh(day_from, cases_from=last_day)
    return refreshed_at()
