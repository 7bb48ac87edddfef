"""Working days: the official holiday calendar and day arithmetic for time limits.

A **working day** is Monday–Friday, unless the date is a :class:`CalendarDay` of kind
``holiday``; a Saturday or Sunday is a working day when it is a ``CalendarDay`` of kind
``workday`` (调休上班, a swapped working day). Years without rows are plain Monday–Friday
weeks: the seed covers 2024–2026 in full and 2027's statutory holidays only, and staff must
enter each new State Council schedule when it is published (admin, or
:func:`set_calendar_day`).

Counting rules (the start day never counts, as in 民法典 第二百零一条 "开始的当日不计入"):

* :func:`add_working_days` ``(start, n)`` — ``n > 0``: the n-th working day after ``start``;
  ``n == 0``: ``start`` if it is a working day, else the next one; ``n < 0``: the |n|-th
  working day before ``start``.
* :func:`working_days_between` ``(a, b)`` — the number of working days ``d`` with
  ``a < d <= b``; when ``b < a`` it is minus the count for ``(b, a]``. So
  ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n >= 1``.
* :func:`deadline` — the end (23:59:59.999999, Asia/Shanghai) of the final day.

Speed and caching. Exception days are loaded a span of whole years at a time and cached per
process. Every public call first reads a cheap stamp of the table (one aggregate query: row
count, highest id, newest ``updated_at``); when it differs from the cached one the cache is
dropped, so edits made by another process (admin on another web worker) are seen at once,
and rolled-back test data never leaks. The service functions below also drop the cache
themselves. A call therefore costs one query when the years it needs are cached and two when
they are not, however many days it spans. Code that computes many dates in a loop (a list
of cases) takes one :func:`calendar_snapshot` and calls its methods, which make no further
queries for years already loaded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, models, transaction
from django.db.models import Count, Max
from django.utils import timezone

from zwfw.core import audit
from zwfw.core.errors import Conflict, NotFound, ValidationError
from zwfw.core.models import AuditRecord, CalendarDay

SHANGHAI = ZoneInfo("Asia/Shanghai")
DATA_FILE = Path(__file__).resolve().parent / "data" / "holidays.json"

ACTION_SET = "core:calendar_day:set"
ACTION_REMOVE = "core:calendar_day:remove"
ACTION_SEED = "core:calendar:seed"
OBJECT_TYPE = "core.calendar_day"

HOLIDAY = CalendarDay.Kind.HOLIDAY.value
WORKDAY = CalendarDay.Kind.WORKDAY.value
_SATURDAY = 5
_ONE_DAY = timedelta(days=1)


class DayUnit(models.TextChoices):
    """How a time limit is counted."""

    WORKING = "working", "工作日"
    NATURAL = "natural", "自然日"


# --- the calendar over loaded exception days -----------------------------------------------


@dataclass
class WorkingCalendar:
    """Day arithmetic over exception days, loading whole years on demand.

    ``loader(first_year, last_year)`` returns ``{date: kind}`` for those years (one query).
    Methods load at most the years they touch; a span is loaded in one go up front.
    """

    loader: Callable[[int, int], dict[date, str]]
    _days: dict[date, str] = field(default_factory=dict)
    _years: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ensure(self, first: date, last: date) -> None:
        """Load every year from ``first`` to ``last`` that is not loaded yet (≤ 1 query)."""
        if last < first:
            first, last = last, first
        missing = [y for y in range(first.year, last.year + 1) if y not in self._years]
        if not missing:
            return
        loaded = self.loader(missing[0], missing[-1])
        with self._lock:
            self._days.update(loaded)
            self._years.update(range(missing[0], missing[-1] + 1))

    def kind(self, day: date) -> str | None:
        """``holiday``, ``workday`` or None for an ordinary day."""
        if day.year not in self._years:
            self.ensure(day, day)
        return self._days.get(day)

    def is_working_day(self, day: date) -> bool:
        kind = self.kind(day)
        if day.weekday() >= _SATURDAY:
            return kind == WORKDAY
        return kind != HOLIDAY

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def add_working_days(self, start: date, n: int) -> date:
        """See :func:`add_working_days`."""
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        # Roughly 250 working days a year, and the longest break (春节) is 9–10 days: this
        # span covers the answer in all but pathological calendars, which load lazily.
        self.ensure(start, start + step * (abs(n) * 3 // 2 + 21))
        current = start
        if n == 0:
            while not self.is_working_day(current):
                current += _ONE_DAY
            return current
        remaining = abs(n)
        while remaining:
            current += step
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, a: date, b: date) -> int:
        """See :func:`working_days_between`."""
        if b < a:
            return -self.working_days_between(b, a)
        self.ensure(a, b)
        count = 0
        current = a + _ONE_DAY
        while current <= b:
            if self.is_working_day(current):
                count += 1
            current += _ONE_DAY
        return count

    def add_days(self, start: date, n: int, unit: str) -> date:
        """See :func:`add_days`."""
        unit = _unit(unit)
        if unit == DayUnit.WORKING:
            return self.add_working_days(start, n)
        return start + timedelta(days=n)

    def deadline(
        self, start: datetime, n: int, unit: str, *, extend_past_rest_days: bool = True
    ) -> datetime:
        """See :func:`deadline`."""
        final = self.add_days(local_date(start), n, unit)
        if _unit(unit) == DayUnit.NATURAL and extend_past_rest_days and n > 0:
            final = self.add_working_days(final, 0)
        return datetime.combine(final, time.max, tzinfo=SHANGHAI)


def _unit(unit: str) -> DayUnit:
    try:
        return DayUnit(unit)
    except ValueError:
        raise ValidationError(
            "calendar.unit_invalid",
            f"期限单位无效：{unit}（应为工作日 working 或自然日 natural）",
            f"invalid day unit {unit!r}: use 'working' or 'natural'",
            field="unit",
        ) from None


def local_date(moment: datetime) -> date:
    """The Asia/Shanghai calendar date of an aware datetime; raises ValueError if naive."""
    if timezone.is_naive(moment):
        raise ValueError("an aware datetime is required (USE_TZ): got a naive one")
    return moment.astimezone(SHANGHAI).date()


# --- the process-wide cache ----------------------------------------------------------------


def _load_years(first_year: int, last_year: int) -> dict[date, str]:
    rows = CalendarDay.objects.filter(
        date__gte=date(first_year, 1, 1), date__lte=date(last_year, 12, 31)
    ).values_list("date", "kind")
    return dict(rows)


def _table_stamp() -> tuple[Any, ...]:
    stamp = CalendarDay.objects.aggregate(
        count=Count("id"), top=Max("id"), changed=Max("updated_at")
    )
    return (stamp["count"], stamp["top"], stamp["changed"])


_cache_lock = threading.Lock()
_cached: tuple[tuple[Any, ...], WorkingCalendar] | None = None


def invalidate_cache() -> None:
    """Drop this process's cached calendar (other processes notice through the stamp)."""
    global _cached  # noqa: PLW0603 (the process-wide cache is the point)
    with _cache_lock:
        _cached = None


def calendar_snapshot() -> WorkingCalendar:
    """The calendar as the database has it now (one query when cached, two when not).

    Keep the returned object for a batch of computations: its methods query only to load a
    year they have not seen yet.
    """
    global _cached  # noqa: PLW0603
    stamp = _table_stamp()
    with _cache_lock:
        if _cached is None or _cached[0] != stamp:
            _cached = (stamp, WorkingCalendar(loader=_load_years))
        return _cached[1]


def is_working_day(d: date) -> bool:
    """Whether ``d`` is a working day (see the module docstring)."""
    return calendar_snapshot().is_working_day(d)


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d`` (e.g. the day a case submitted on ``d``
    outside office hours is accepted)."""
    return calendar_snapshot().next_working_day(d)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` itself is not counted).

    ``n == 0`` gives ``start`` when it is a working day, otherwise the next working day;
    negative ``n`` counts backwards (the |n|-th working day before ``start``).
    """
    return calendar_snapshot().add_working_days(start, n)


def working_days_between(a: date, b: date) -> int:
    """Working days in the half-open span ``(a, b]``; negative (minus ``(b, a]``) if b < a."""
    return calendar_snapshot().working_days_between(a, b)


def add_days(start: date, n: int, unit: str) -> date:
    """``start`` plus ``n`` working days (``"working"``, 工作日) or natural days
    (``"natural"``, 自然日). Raises ``ValidationError("calendar.unit_invalid")``."""
    return calendar_snapshot().add_days(start, n, unit)


def deadline(start: datetime, n: int, unit: str, *, extend_past_rest_days: bool = True) -> datetime:
    """The moment a time limit of ``n`` days from ``start`` ends.

    The count starts on the Asia/Shanghai date of ``start`` (which is not counted) and the
    result is the end of the final day, 23:59:59.999999 Asia/Shanghai, as an aware datetime.
    For natural days, a final day that is not a working day moves to the next working day
    (民法典 第二百零三条: a period ending on a rest day ends on the day after it);
    ``extend_past_rest_days=False`` turns that off. Raises ``ValueError`` for a naive
    ``start`` and ``ValidationError("calendar.unit_invalid")`` for an unknown unit.
    """
    return calendar_snapshot().deadline(start, n, unit, extend_past_rest_days=extend_past_rest_days)


# --- staff edits ---------------------------------------------------------------------------

_NAME_MAX = CalendarDay._meta.get_field("name").max_length or 64
_SOURCE_MAX = CalendarDay._meta.get_field("source").max_length or 128


def validate_calendar_day(day: Any, kind: str, name: str, source: str) -> tuple[str, str, str]:
    """Check one calendar entry; return the cleaned ``(kind, name, source)``.

    Rules: ``kind`` is ``holiday`` or ``workday``; a ``workday`` (调休上班) must fall on a
    Saturday or Sunday, since a weekday already is one; a ``holiday`` may fall on any date
    (weekend days inside a holiday period are stored too, so the period reads whole);
    ``name`` (e.g. 国庆节) and ``source`` (the notice, e.g. 国办发明电〔2024〕12号) are required.
    Raises :class:`ValidationError` with codes ``calendar.date_invalid``,
    ``calendar.kind_invalid``, ``calendar.workday_not_weekend``, ``calendar.name_required``,
    ``calendar.name_too_long``, ``calendar.source_required``, ``calendar.source_too_long``.
    """
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError(
            "calendar.date_invalid", "日期无效。", "date must be a calendar date", field="date"
        )
    if kind not in (HOLIDAY, WORKDAY):
        raise ValidationError(
            "calendar.kind_invalid",
            "类型无效：应为法定节假日（holiday）或调休上班日（workday）。",
            f"kind must be 'holiday' or 'workday', not {kind!r}",
            field="kind",
        )
    if kind == WORKDAY and day.weekday() < _SATURDAY:
        raise ValidationError(
            "calendar.workday_not_weekend",
            f"{day.isoformat()}是工作日（周一至周五），无需登记为调休上班日；调休上班日只能是周六或周日。",
            f"{day.isoformat()} is a weekday: only a weekend day can be a swapped working day",
            field="kind",
        )
    name = (name or "").strip()
    source = (source or "").strip()
    if not name:
        raise ValidationError(
            "calendar.name_required", "请填写名称（如：国庆节）。", "name is required", field="name"
        )
    if len(name) > _NAME_MAX:
        raise ValidationError(
            "calendar.name_too_long",
            f"名称不能超过{_NAME_MAX}个字。",
            f"name is longer than {_NAME_MAX} characters",
            field="name",
        )
    if not source:
        raise ValidationError(
            "calendar.source_required",
            "请填写依据（放假通知的文号或标题）。",
            "source (the notice that fixed the day) is required",
            field="source",
        )
    if len(source) > _SOURCE_MAX:
        raise ValidationError(
            "calendar.source_too_long",
            f"依据不能超过{_SOURCE_MAX}个字。",
            f"source is longer than {_SOURCE_MAX} characters",
            field="source",
        )
    return kind, name, source


def _as_dict(row: CalendarDay) -> dict[str, str]:
    return {"date": row.date.isoformat(), "kind": row.kind, "name": row.name, "source": row.source}


#: Called (after commit) when staff change the calendar: apps that store deadlines computed
#: from it register here (e.g. cases recompute their due dates). The kernel imports no app.
CHANGE_HOOKS: list[Callable[[], None]] = []


def _drop_cache_now_and_on_commit() -> None:
    invalidate_cache()
    transaction.on_commit(invalidate_cache)
    for hook in CHANGE_HOOKS:
        transaction.on_commit(hook)


def set_calendar_day(
    day: date, kind: str, name: str, source: str, actor: str | None = None
) -> CalendarDay:
    """Create or change the calendar entry of ``day`` (staff edit).

    Atomic; audited as ``core:calendar_day:set`` with before/after (nothing is written or
    audited when the entry already says exactly this); drops the calendar cache. ``actor``
    overrides the audit actor taken from the request context. Raises
    :class:`ValidationError` (see :func:`validate_calendar_day`) and :class:`Conflict`
    (``calendar.concurrent_edit``) when another edit created the same date at the same time.
    """
    kind, name, source = validate_calendar_day(day, kind, name, source)
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(date=day).first()
        before = _as_dict(row) if row is not None else None
        if row is None:
            try:
                with transaction.atomic():
                    row = CalendarDay.objects.create(date=day, kind=kind, name=name, source=source)
            except IntegrityError:
                raise Conflict(
                    "calendar.concurrent_edit",
                    "该日期正在被他人修改，请刷新后重试。",
                    "the date was created by a concurrent edit; reload and retry",
                    field="date",
                ) from None
        elif (row.kind, row.name, row.source) == (kind, name, source):
            return row
        else:
            row.kind, row.name, row.source = kind, name, source
            row.save(update_fields=["kind", "name", "source", "updated_at"])
        audit.record(
            ACTION_SET,
            OBJECT_TYPE,
            day.isoformat(),
            before=before,
            after=_as_dict(row),
            actor=actor,
        )
        _drop_cache_now_and_on_commit()
    return row


def remove_calendar_day(day: date, actor: str | None = None) -> None:
    """Delete the calendar entry of ``day``, making it an ordinary day again (staff edit).

    Atomic; audited as ``core:calendar_day:remove`` with the entry as ``before``; drops the
    cache. Raises :class:`NotFound` (``calendar.day_not_found``) when there is no entry.
    """
    with transaction.atomic():
        row = CalendarDay.objects.select_for_update().filter(date=day).first()
        if row is None:
            raise NotFound(
                "calendar.day_not_found",
                f"{day.isoformat()}没有节假日或调休登记。",
                f"no calendar entry for {day.isoformat()}",
                field="date",
            )
        before = _as_dict(row)
        row.delete()
        audit.record(ACTION_REMOVE, OBJECT_TYPE, day.isoformat(), before=before, actor=actor)
        _drop_cache_now_and_on_commit()


# --- seeding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedDay:
    date: date
    kind: str
    name: str
    source: str


@cache
def seed_data() -> dict[int, tuple[SeedDay, ...]]:
    """The shipped schedules (``data/holidays.json``) by year."""
    document = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    years: dict[int, tuple[SeedDay, ...]] = {}
    for entry in document["years"]:
        years[int(entry["year"])] = tuple(
            SeedDay(date.fromisoformat(d["date"]), d["kind"], d["name"], entry["source"])
            for d in entry["days"]
        )
    return years


def seed_calendar(years: Iterable[int] | None = None) -> int:
    """Load the shipped schedules into the calendar table; returns rows created or updated.

    Idempotent upsert. A date that staff have ever set or removed through
    :func:`set_calendar_day` / :func:`remove_calendar_day` (an audit record
    ``core:calendar_day:set`` or ``:remove`` exists for it) is left exactly as staff left it —
    including a seeded day staff deleted, which is not brought back. Rows are never deleted
    by seeding. ``years`` defaults to every shipped year. Raises :class:`ValidationError`
    (``calendar.seed_year_unknown``) for a year the data file does not hold.
    """
    data = seed_data()
    wanted = sorted(set(years)) if years is not None else sorted(data)
    unknown = [y for y in wanted if y not in data]
    if unknown:
        missing_text, shipped_text = "、".join(map(str, unknown)), "、".join(map(str, sorted(data)))
        raise ValidationError(
            "calendar.seed_year_unknown",
            f"没有{missing_text}年的放假安排数据（已有：{shipped_text}）。",
            f"no shipped schedule for {unknown}; available: {sorted(data)}",
            field="years",
        )
    entries = [day for year in wanted for day in data[year]]
    if not entries:
        return 0
    with transaction.atomic():
        existing = {
            row.date: row
            for row in CalendarDay.objects.select_for_update().filter(
                date__gte=date(wanted[0], 1, 1), date__lte=date(wanted[-1], 12, 31)
            )
        }
        staff_touched = set(
            AuditRecord.objects.filter(
                object_type=OBJECT_TYPE,
                action__in=(ACTION_SET, ACTION_REMOVE),
                object_id__in=[e.date.isoformat() for e in entries],
            ).values_list("object_id", flat=True)
        )
        now = timezone.now()
        to_create, to_update = [], []
        for entry in entries:
            if entry.date.isoformat() in staff_touched:
                continue
            row = existing.get(entry.date)
            if row is None:
                to_create.append(
                    CalendarDay(
                        date=entry.date, kind=entry.kind, name=entry.name, source=entry.source
                    )
                )
            elif (row.kind, row.name, row.source) != (entry.kind, entry.name, entry.source):
                row.kind, row.name, row.source = entry.kind, entry.name, entry.source
                # bulk_update skips auto_now; the cache stamp relies on updated_at moving.
                row.updated_at = now
                to_update.append(row)
        CalendarDay.objects.bulk_create(to_create)
        CalendarDay.objects.bulk_update(to_update, ["kind", "name", "source", "updated_at"])
        changed = len(to_create) + len(to_update)
        if changed:
            audit.record(
                ACTION_SEED,
                "core.calendar",
                ",".join(map(str, wanted)),
                after={
                    "years": wanted,
                    "created": len(to_create),
                    "updated": len(to_update),
                    "kept_staff_edits": sorted(staff_touched),
                },
            )
        _drop_cache_now_and_on_commit()
    return changed
