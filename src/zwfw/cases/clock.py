"""The case clock: promised time limits in working or natural days, with pauses.

Conventions (documented in docs/decisions/0013-case-clock.md):

- The count starts on the day of acceptance (受理), which is not itself counted: a 5-working-
  day limit accepted on Monday ends on the following Monday (both days working days).
- A pause (补正 during handling, 特别程序, 挂起) that starts on day P and ends on day R adds the
  days in (P, R] to the limit: the day the pause starts counts as used, the day it ends does
  not. The unit of the pause is the unit of the limit.
- ``due_date`` is stored (supervision queries it in SQL); :func:`recompute` refreshes it from
  the other fields, e.g. after the holiday table changes.
- Status: *overdue* when today is past ``due_date``; *nearing* when the days used reach
  ``ZWFW_CASE_NEARING_PERCENT`` of the limit; otherwise *normal*.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from zwfw.core import calendar as cal

UNIT_FROM_CODE = {"1": "working", "2": "natural", "working": "working", "natural": "natural"}


def unit_of(code: str) -> str:
    return UNIT_FROM_CODE.get(code, "working")


def days_between(calendar: cal.WorkingCalendar, a: dt.date, b: dt.date, unit: str) -> int:
    """Days of ``unit`` in (a, b] (negative if b < a)."""
    if unit == "natural":
        return (b - a).days
    return calendar.working_days_between(a, b)


def compute_due(calendar: cal.WorkingCalendar, case: Any) -> dt.date | None:
    if case.clock_start is None:
        return None
    total = case.limit_days + case.paused_days
    due = calendar.add_days(case.clock_start, total, case.limit_unit)
    if case.limit_unit == "natural" and total > 0:
        # A natural-day period ending on a rest day ends on the next working day (民法典 203).
        due = calendar.add_working_days(due, 0)
    return due


def start(case: Any, day: dt.date, *, calendar: cal.WorkingCalendar | None = None) -> None:
    """Start the clock on ``day`` (acceptance)."""
    calendar = calendar or cal.calendar_snapshot()
    case.clock_start = day
    case.paused_days = 0
    case.paused_since = None
    case.due_date = compute_due(calendar, case)


def pause(case: Any, day: dt.date, reason: str) -> None:
    """Stop the clock from ``day`` (no effect before acceptance or while already paused)."""
    if case.clock_start is None or case.paused_since is not None:
        return
    case.paused_since = day
    case.pause_reason = reason


def resume(case: Any, day: dt.date, *, calendar: cal.WorkingCalendar | None = None) -> int:
    """Restart the clock on ``day``; returns the days added to the limit."""
    if case.paused_since is None:
        return 0
    calendar = calendar or cal.calendar_snapshot()
    added = max(0, days_between(calendar, case.paused_since, day, case.limit_unit))
    case.paused_days += added
    case.paused_since = None
    case.pause_reason = ""
    case.due_date = compute_due(calendar, case)
    return added


def recompute(case: Any, *, calendar: cal.WorkingCalendar | None = None) -> bool:
    """Refresh ``due_date`` from the current calendar; returns whether it changed."""
    calendar = calendar or cal.calendar_snapshot()
    due = compute_due(calendar, case)
    changed = due != case.due_date
    case.due_date = due
    return changed


@dataclass(frozen=True)
class ClockState:
    limit: int
    unit: str
    used: int
    remaining: int
    paused: bool
    due_date: dt.date | None
    status: str  # normal / nearing / overdue / stopped (not started or finished)

    def as_dict(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "unit": self.unit,
            "used": self.used,
            "remaining": self.remaining,
            "paused": self.paused,
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "status": self.status,
        }


def nearing_percent() -> int:
    return int(getattr(settings, "CASE_NEARING_PERCENT", 80))


def state(
    case: Any, today: dt.date | None = None, *, calendar: cal.WorkingCalendar | None = None
) -> ClockState:
    """Elapsed, remaining and status of a case's clock on ``today``."""
    calendar = calendar or cal.calendar_snapshot()
    unit = case.limit_unit
    if case.clock_start is None:
        return ClockState(case.limit_days, unit, 0, case.limit_days, False, None, "stopped")
    end = today or cal.local_date(_now())
    if case.closed_at is not None:
        end = cal.local_date(case.closed_at)
    counted_until = case.paused_since if case.paused_since is not None else end
    used = max(0, days_between(calendar, case.clock_start, counted_until, unit) - case.paused_days)
    remaining = case.limit_days - used
    if case.closed_at is not None:
        status = "stopped"
    elif case.due_date is not None and end > case.due_date and case.paused_since is None:
        status = "overdue"
    elif case.limit_days and used * 100 >= case.limit_days * nearing_percent():
        status = "nearing"
    else:
        status = "normal"
    return ClockState(
        case.limit_days,
        unit,
        used,
        remaining,
        case.paused_since is not None,
        case.due_date,
        status,
    )


def _now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()
