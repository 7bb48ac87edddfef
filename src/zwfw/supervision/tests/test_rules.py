"""Each rule hits and misses (around National Day 2026 and paused clocks); warnings are raised
once, updated, cleared and reopened as new records; the incremental pass reads changed cases
only. Expected values are counted by hand from the 2026 calendar:

- 2026-09-28 (Mon) clock start, 10 working days: 09-29 1, 09-30 2, [10-01…10-07 国庆节],
  10-08 3, 10-09 4, 10-10 (Sat, 调休上班) 5, 10-12 6, 10-13 7, 10-14 8, 10-15 9, 10-16 10
  → due 2026-10-16; 80 % = 8 used → nearing from 10-14; overdue from 10-17.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from zwfw.cases.models import SpecialProcedure
from zwfw.core.models import AuditRecord
from zwfw.supervision import engine
from zwfw.supervision.models import Order, Rule, RunState, Warning
from zwfw.supervision.tests.conftest import add_event, add_task, at, make_case

D = dt.date


def run(day: dt.date, full: bool = True, hour: int = 12) -> dict[str, Any]:
    return engine.run_rules(full=full, now=at(day, hour))


def open_codes(case: Any) -> set[str]:
    return set(
        Warning.objects.filter(case=case, status="open").values_list("rule__code", flat=True)
    )


def test_due_date_of_the_fixture_is_the_hand_count(sv) -> None:
    case = make_case(sv)
    assert case.due_date == D(2026, 10, 16)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2026, 10, 8), set()),  # 3 used: 10 calendar days but the holiday does not count
        (D(2026, 10, 13), set()),  # 7 used = 70 %
        (D(2026, 10, 14), {"R02"}),  # 8 used = 80 %
        (D(2026, 10, 16), {"R02"}),  # 10 used, due today: not yet overdue
        (D(2026, 10, 17), {"R03"}),  # past the due date
    ],
)
def test_nearing_and_overdue_count_working_days(sv, day, expected) -> None:
    case = make_case(sv)
    run(day)
    assert open_codes(case) == expected


def test_natural_day_limit_counts_calendar_days(sv) -> None:
    # 10 natural days from 09-28: due 10-08 (a working day); 8 used on 10-06.
    case = make_case(sv, limit_unit="natural")
    assert case.due_date == D(2026, 10, 8)
    run(D(2026, 10, 5))
    assert open_codes(case) == set()
    run(D(2026, 10, 6))
    assert open_codes(case) == {"R02"}


def test_percent_threshold_comes_from_the_rule(sv) -> None:
    case = make_case(sv)
    Rule.objects.filter(code="R02").update(parameters={"percent": 50})
    run(D(2026, 10, 10))  # 5 used = 50 %
    assert open_codes(case) == {"R02"}
    warning = Warning.objects.get(case=case)
    assert warning.detail == {"case_number": case.number, "n": 5, "date": "2026-10-16"}
    assert warning.description == (
        f"办件{case.number}已用5个计时日，达到承诺时限的50%，应于2026-10-16前办结。"
    )


def test_setting_is_the_default_percent(sv, settings) -> None:
    settings.SUPERVISION_NEARING_PERCENT = 70
    case = make_case(sv)
    run(D(2026, 10, 13))  # 7 used = 70 %
    assert open_codes(case) == {"R02"}


def test_paused_clock_counts_until_the_pause_and_is_never_overdue(sv) -> None:
    # Paused on 10-09 with 4 used: stays 40 % however long it waits, and is not overdue.
    case = make_case(sv, status="special", paused_since=D(2026, 10, 9), pause_reason="special")
    run(D(2026, 10, 20))
    assert open_codes(case) == set()


def test_paused_days_move_the_limit(sv) -> None:
    # Resumed with 3 paused days: limit 13 → due 10-21; used on 10-19 = 11 - 3 = 8 → 80 %.
    case = make_case(sv, paused_days=3)
    assert case.due_date == D(2026, 10, 21)
    run(D(2026, 10, 16))  # 10 - 3 = 7
    assert open_codes(case) == set()
    run(D(2026, 10, 19))
    assert open_codes(case) == {"R02"}


def test_cases_without_a_clock_or_limit_are_not_timed(sv) -> None:
    waiting = make_case(sv, status="submitted", clock_start=None, due_date=None)
    immediate = make_case(sv, limit_days=0, due_date=None)
    run(D(2026, 10, 30))
    assert open_codes(waiting) == set()
    assert open_codes(immediate) == set()


def test_final_cases_are_not_nearing_or_overdue(sv) -> None:
    case = make_case(sv, status="closed", closed_at=at(D(2026, 10, 16)), decision="approve")
    add_task(case, status="done")
    add_event(case, "review")
    run(D(2026, 10, 20))
    assert open_codes(case) == set()


def test_step_overdue(sv) -> None:
    case = make_case(sv, clock_start=D(2026, 10, 12))
    task = add_task(case, due_date=D(2026, 10, 14), department=sv["planning"])
    run(D(2026, 10, 14))
    assert open_codes(case) == set()
    run(D(2026, 10, 15))
    warning = Warning.objects.get(case=case, rule__code="R01")
    assert warning.department == sv["planning"]  # the step's department answers for it
    assert warning.severity == "orange"
    assert warning.detail == {"case_number": case.number, "n": 1, "date": "2026-10-14"}
    task.status = "done"
    task.save()
    run(D(2026, 10, 16))
    warning.refresh_from_db()
    assert warning.status == "cleared"


def test_refusal_or_send_back_without_reason(sv) -> None:
    refused = make_case(
        sv, status="refused", refusal_reason="  ", closed_at=at(D(2026, 10, 10)), clock_start=None
    )
    reasoned = make_case(
        sv, status="refused", refusal_reason="材料不全", closed_at=at(D(2026, 10, 10))
    )
    sent_back = make_case(sv, clock_start=D(2026, 10, 12))
    add_task(sent_back, status="cancelled", outcome="return", opinion="")
    explained = make_case(sv, clock_start=D(2026, 10, 12))
    add_task(explained, status="cancelled", outcome="return", opinion="请补充现场照片")
    run(D(2026, 10, 12))
    assert open_codes(refused) == {"R04"}
    assert open_codes(sent_back) == {"R04"}
    assert open_codes(reasoned) == set()
    assert open_codes(explained) == set()
    assert "不予受理但未说明理由" in Warning.objects.get(case=refused).description


def test_decision_without_review(sv) -> None:
    closed = {"status": "closed", "decision": "approve", "closed_at": at(D(2026, 10, 12))}
    unreviewed = make_case(sv, **closed)
    add_event(unreviewed, "accept")
    reviewed = make_case(sv, **closed)
    add_task(reviewed, status="done")
    add_event(reviewed, "review")
    run(D(2026, 10, 13))
    assert open_codes(unreviewed) == {"R05"}
    assert open_codes(reviewed) == set()


def test_off_platform_handling(sv) -> None:
    closed = {"status": "closed", "decision": "approve", "closed_at": at(D(2026, 10, 12))}
    outside = make_case(sv, **closed)
    add_task(outside, status="done")  # reviewed (no R05) but no step recorded on the platform
    add_event(outside, "close")
    inside = make_case(sv, **closed)
    add_task(inside, status="done")
    add_event(inside, "review")
    run(D(2026, 10, 13))
    assert open_codes(outside) == {"R08"}
    assert open_codes(inside) == set()


def test_final_rules_in_a_full_pass_read_recent_closures_only(sv, settings) -> None:
    settings.SUPERVISION_LOOKBACK_DAYS = 30
    old = make_case(sv, status="closed", decision="approve", closed_at=at(D(2026, 8, 1)))
    recent = make_case(sv, status="closed", decision="approve", closed_at=at(D(2026, 10, 1)))
    run(D(2026, 10, 13))
    assert open_codes(old) == set()
    assert open_codes(recent) == {"R05", "R08"}


def test_pause_too_long(sv) -> None:
    # Paused on 10-09; 60 calendar days later is 12-08: still allowed, 12-09 is not.
    case = make_case(sv, status="suspended", paused_since=D(2026, 10, 9))
    run(D(2026, 12, 8))
    assert open_codes(case) == set()
    run(D(2026, 12, 9))
    assert open_codes(case) == {"R06"}


def test_special_procedure_past_its_expected_end(sv) -> None:
    case = make_case(sv, status="special", paused_since=D(2026, 10, 9))
    SpecialProcedure.objects.create(
        case=case,
        kind="24",
        reason="专家评审",
        requested_by="刘洋",
        started_at=at(D(2026, 10, 9)),
        expected_end=D(2026, 10, 20),
    )
    run(D(2026, 10, 20))
    assert open_codes(case) == set()
    run(D(2026, 10, 21))
    assert open_codes(case) == {"R06"}


def test_fee_rule_is_disabled_and_has_no_data(sv) -> None:
    rule = Rule.objects.get(code="R07")
    assert rule.enabled is False
    assert engine.branches_of("R07") == []
    assert not engine.is_available("R07")


def test_runs_twice_give_the_same_rows(sv) -> None:
    cases = [make_case(sv) for _ in range(3)]
    run(D(2026, 10, 14))
    first = list(Warning.objects.order_by("id").values_list("id", "number", "status"))
    assert len(first) == 3
    run(D(2026, 10, 14), full=True, hour=15)
    assert list(Warning.objects.order_by("id").values_list("id", "number", "status")) == first
    assert {w.case_id for w in Warning.objects.all()} == {c.pk for c in cases}


def test_yellow_turns_red_and_clearance_then_relapse_makes_a_new_record(sv) -> None:
    case = make_case(sv)
    run(D(2026, 10, 14))
    yellow = Warning.objects.get(case=case)
    assert (yellow.rule.code, yellow.severity, yellow.number) == ("R02", "yellow", yellow.number)
    assert yellow.number.startswith("JC20261014")
    run(D(2026, 10, 17))
    yellow.refresh_from_db()
    assert yellow.status == "cleared"
    red = Warning.objects.get(case=case, status="open")
    assert (red.rule.code, red.severity) == ("R03", "red")
    # The red warning opened a 督办 order with a 2-working-day reply deadline (10-17 Sat → 10-20).
    order = Order.objects.get(warning=red)
    assert order.response_deadline == D(2026, 10, 20)
    assert (order.card, order.department_id) == ("red", sv["market"].pk)
    # Paused: no longer overdue → cleared; resumed later and overdue again → a new record.
    case.paused_since = D(2026, 10, 17)
    case.status = "special"
    case.save()
    run(D(2026, 10, 19))
    red.refresh_from_db()
    assert red.status == "cleared"
    # Paused at 10 of 10 days used: not overdue, but still at its limit (as clock.state says).
    assert open_codes(case) == {"R02"}
    case.paused_since = None
    case.status = "in_progress"
    case.save()
    run(D(2026, 10, 20))
    again = Warning.objects.get(case=case, status="open")
    assert again.pk != red.pk
    assert again.rule.code == "R03"
    assert list(
        Warning.objects.filter(case=case).order_by("id").values_list("rule__code", "status")
    ) == [
        ("R02", "cleared"),
        ("R03", "cleared"),
        ("R02", "cleared"),
        ("R03", "open"),
    ]


def test_closing_a_case_clears_its_clock_warnings(sv) -> None:
    case = make_case(sv)
    add_task(case, due_date=D(2026, 10, 13))
    run(D(2026, 10, 14))
    assert open_codes(case) == {"R01", "R02"}
    case.status = "closed"
    case.decision = "approve"
    case.closed_at = at(D(2026, 10, 15))
    case.save()
    add_event(case, "review")
    case.tasks.update(status="done")
    run(D(2026, 10, 15))
    assert open_codes(case) == set()
    assert Warning.objects.filter(case=case, status="cleared").count() == 2


def test_transfer_moves_the_warning_to_the_new_department(sv) -> None:
    case = make_case(sv)
    run(D(2026, 10, 14))
    case.department = sv["planning"]
    case.save()
    summary = run(D(2026, 10, 14), hour=15)
    assert summary["rules"]["R02"]["updated"] == 1
    assert Warning.objects.get(case=case).department == sv["planning"]


def test_disabled_rule_raises_nothing_and_clears_on_a_full_pass(sv) -> None:
    case = make_case(sv)
    run(D(2026, 10, 14))
    Rule.objects.filter(code="R02").update(enabled=False)
    run(D(2026, 10, 14), hour=15)
    assert open_codes(case) == set()


def test_incremental_pass_reads_changed_cases_only(sv) -> None:
    changed = make_case(sv)
    untouched = make_case(sv)
    run(D(2026, 10, 14), hour=10)
    assert open_codes(changed) == open_codes(untouched) == {"R02"}
    before = at(D(2026, 10, 14), 9)
    type(changed).objects.update(updated_at=before)
    # Both cases are paused in the database, but only one says so through updated_at.
    type(changed).objects.filter(pk=changed.pk).update(
        paused_since=D(2026, 10, 9), updated_at=at(D(2026, 10, 14), 11)
    )
    type(changed).objects.filter(pk=untouched.pk).update(paused_since=D(2026, 10, 9))
    summary = run(D(2026, 10, 14), full=False, hour=12)
    assert summary["full"] is False
    assert open_codes(changed) == set()  # 4 used at the pause
    assert open_codes(untouched) == {"R02"}  # not read by the incremental pass
    # The next day's first run is a full pass whatever the caller asked, and sees both.
    summary = run(D(2026, 10, 15), full=False)
    assert summary["full"] is True
    assert open_codes(untouched) == set()


def test_run_state_and_audit(sv) -> None:
    make_case(sv)
    run(D(2026, 10, 14))
    state = RunState.objects.get(pk=1)
    assert state.last_full_date == D(2026, 10, 14)
    assert state.watermark == at(D(2026, 10, 14)) - engine.OVERLAP
    record = AuditRecord.objects.filter(action="supervision:run:complete").latest("id")
    assert record.after["raised"] == 1
    # a later pass that changes nothing leaves no audit entry (RunState keeps its summary)
    entries = AuditRecord.objects.count()
    run(D(2026, 10, 14))
    assert AuditRecord.objects.count() == entries


def test_holiday_change_rebuilds_the_day_index(sv) -> None:
    from zwfw.core import calendar as cal

    case = make_case(sv)
    run(D(2026, 10, 13))
    assert open_codes(case) == set()
    # 10-12 becomes a working day twice over? No: make 10-10 (a swapped working day) a holiday.
    cal.set_calendar_day(D(2026, 10, 10), "holiday", "测试", "test")
    # The stored due date is stale until the cases app recomputes it; "used" is not: 10-14
    # now counts 7 working days (10-10 no longer counts) → 70 %, no warning.
    run(D(2026, 10, 14))
    assert open_codes(case) == set()


def test_warning_counts_follow_full_and_incremental_passes(sv) -> None:
    from zwfw.supervision.models import WarningCount

    def counts() -> dict[tuple[int, str], int]:
        return {
            (row.department_id, row.severity): row.count
            for row in WarningCount.objects.filter(count__gt=0)
        }

    market, planning = sv["market"].pk, sv["planning"].pk
    first, second = make_case(sv), make_case(sv)
    run(D(2026, 10, 14), hour=10)
    assert counts() == {(market, "yellow"): 2}
    # One case moves to planning (转办) and is read by an incremental pass.
    type(first).objects.filter(pk=first.pk).update(department=sv["planning"])
    summary = run(D(2026, 10, 14), full=False, hour=11)
    assert summary["full"] is False
    assert counts() == {(market, "yellow"): 1, (planning, "yellow"): 1}
    type(second).objects.filter(pk=second.pk).update(
        status="withdrawn", closed_at=at(D(2026, 10, 14))
    )
    run(D(2026, 10, 14), full=False, hour=12)
    assert counts() == {(planning, "yellow"): 1}
