"""The case clock over the official 2026 calendar (expected dates computed by hand).

2026 around National Day: 9/25 (Fri) 中秋节 holiday, 10/1–10/7 国庆节 holiday, 10/10 (Sat) a
swapped working day. Working days from 9/28: 9/28 9/29 9/30 10/8 10/9 10/10 10/12 10/13 …
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from zwfw.cases import clock, services
from zwfw.cases.models import CaseStatus, CaseTask, TaskKind
from zwfw.cases.tests.conftest import ITEM_PROMISED, PDF
from zwfw.core import calendar as cal
from zwfw.core.calendar import seed_calendar

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date


@pytest.fixture(autouse=True)
def _calendar(db: None) -> None:
    seed_calendar()
    cal.invalidate_cache()


def fresh(limit: int, unit: str = "working") -> Any:
    return SimpleNamespace(
        limit_days=limit,
        limit_unit=unit,
        clock_start=None,
        paused_days=0,
        paused_since=None,
        pause_reason="",
        due_date=None,
        closed_at=None,
    )


def test_j1_promised_date_skips_the_holiday_and_counts_the_swapped_saturday() -> None:
    case = fresh(5)
    clock.start(case, D(2026, 9, 28))
    assert case.due_date == D(2026, 10, 10)


def test_pause_and_resume_across_the_holiday() -> None:
    case = fresh(10)
    clock.start(case, D(2026, 9, 21))
    clock.pause(case, D(2026, 9, 29), "correction")
    state = clock.state(case, D(2026, 10, 5))
    # 9/22 9/23 9/24 9/28 9/29 used (9/25 中秋): the clock stands still while paused.
    assert (state.used, state.remaining, state.paused) == (5, 5, True)
    added = clock.resume(case, D(2026, 10, 12))
    # Paused working days in (9/29, 10/12]: 9/30 10/8 10/9 10/10 10/12.
    assert added == 5
    assert case.due_date == D(2026, 10, 19)
    state = clock.state(case, D(2026, 10, 12))
    assert (state.used, state.remaining) == (5, 5)


def test_pause_and_resume_on_the_same_day_adds_nothing() -> None:
    case = fresh(5)
    clock.start(case, D(2026, 9, 28))
    clock.pause(case, D(2026, 9, 29), "special")
    assert clock.resume(case, D(2026, 9, 29)) == 0
    assert case.due_date == D(2026, 10, 10)


def test_a_second_pause_while_paused_keeps_the_first_start() -> None:
    case = fresh(5)
    clock.start(case, D(2026, 9, 28))
    clock.pause(case, D(2026, 9, 29), "correction")
    clock.pause(case, D(2026, 10, 9), "special")
    assert case.paused_since == D(2026, 9, 29)
    assert case.pause_reason == "correction"


def test_natural_days_ending_on_a_holiday_move_to_the_next_working_day() -> None:
    case = fresh(10, "natural")
    clock.start(case, D(2026, 9, 24))
    # 9/24 + 10 days = 10/4 (国庆 holiday) → 10/8, the first working day after it.
    assert case.due_date == D(2026, 10, 8)


def test_natural_day_pause_counts_calendar_days() -> None:
    case = fresh(10, "natural")
    clock.start(case, D(2026, 11, 2))
    clock.pause(case, D(2026, 11, 4), "correction")
    assert clock.resume(case, D(2026, 11, 9)) == 5
    # 11/2 + 15 = 11/17 (Tuesday).
    assert case.due_date == D(2026, 11, 17)


def test_status_normal_nearing_overdue() -> None:
    case = fresh(5)
    clock.start(case, D(2026, 9, 28))
    assert clock.state(case, D(2026, 9, 30)).status == "normal"  # 2 of 5 used
    assert clock.state(case, D(2026, 10, 9)).status == "nearing"  # 4 of 5 = 80 %
    assert clock.state(case, D(2026, 10, 10)).status == "nearing"  # last day, not late
    late = clock.state(case, D(2026, 10, 11))
    assert late.status == "overdue"
    assert late.remaining == 0
    assert clock.state(case, D(2026, 10, 12)).remaining == -1


def test_nearing_threshold_is_a_setting(settings: Any) -> None:
    settings.CASE_NEARING_PERCENT = 50
    case = fresh(10)
    clock.start(case, D(2026, 9, 28))
    assert clock.state(case, D(2026, 10, 9)).status == "normal"  # 4 of 10
    assert clock.state(case, D(2026, 10, 10)).status == "nearing"  # 5 of 10


def test_paused_case_is_never_overdue() -> None:
    case = fresh(2)
    clock.start(case, D(2026, 9, 28))
    clock.pause(case, D(2026, 9, 29), "special")
    assert clock.state(case, D(2026, 11, 30)).status != "overdue"


def test_clock_not_started() -> None:
    state = clock.state(fresh(5), D(2026, 9, 28))
    assert state.status == "stopped"
    assert state.due_date is None


def test_due_dates_follow_a_calendar_change(world: dict[str, Any]) -> None:
    case = services.create_draft(world["person"], ITEM_PROMISED)
    for index in range(3):
        services.add_material_upload(
            world["person"], case, checklist_index=index, name="a.pdf", data=PDF + bytes([index])
        )
    services.submit(world["person"], case)
    case.refresh_from_db()
    case.clock_start = D(2026, 9, 28)
    case.limit_days = 5
    case.due_date = D(2026, 10, 10)
    case.status = CaseStatus.IN_PROGRESS
    case.save()
    # The State Council cancels the swap: 10/10 becomes an ordinary Saturday.
    cal.remove_calendar_day(D(2026, 10, 10), actor="test")
    assert services.recompute_due_dates() == 1
    case.refresh_from_db()
    assert case.due_date == D(2026, 10, 12)
    assert services.recompute_due_dates() == 0


def _at(day: D, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def test_j1_and_j2_through_the_services(world: dict[str, Any], monkeypatch: Any) -> None:
    """Submitted Friday 9/25 21:40, accepted Monday 9/28; a correction during review from
    9/29 to 10/9 (Friday after the holiday) adds the paused working days."""
    now = {"value": _at(D(2026, 9, 25), 21, 40)}
    monkeypatch.setattr(services, "_now", lambda: now["value"])
    case = services.create_draft(world["person"], ITEM_PROMISED)
    for index in range(3):
        services.add_material_upload(
            world["person"], case, checklist_index=index, name="a.pdf", data=PDF + bytes([index])
        )
    case = services.submit(world["person"], case).case
    assert case.number is not None
    assert case.number[6:14] == "20260925"
    now["value"] = _at(D(2026, 9, 28), 9, 5)
    case = services.accept(world["clerk"], case)
    assert case.clock_start == D(2026, 9, 28)
    # The item promises 10 working days: 9/29 9/30 10/8 10/9 10/10 10/12 … 10/16.
    assert case.due_date == D(2026, 10, 16)
    review = case.tasks.get(kind=TaskKind.REVIEW, status=CaseTask.Status.OPEN)
    now["value"] = _at(D(2026, 9, 29), 10)
    services.request_correction(
        world["reviewer"], case, [{"checklist_index": 2, "problem": "缺少一名员工的健康证明"}]
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION
    assert case.paused_since == D(2026, 9, 29)
    now["value"] = _at(D(2026, 10, 9), 16)
    services.add_material_upload(
        world["person"], case, checklist_index=2, name="health.pdf", data=PDF + b"health"
    )
    case = services.resubmit(world["person"], case)
    # Paused working days in (9/29, 10/9]: 9/30 10/8 10/9 → 13 in all → 10/21.
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.paused_days == 3
    assert case.due_date == D(2026, 10, 21)
    state = clock.state(case, D(2026, 10, 9))
    assert (state.used, state.remaining) == (1, 9)
    review.refresh_from_db()
    assert review.status == CaseTask.Status.OPEN  # the reviewer carries on where she was
