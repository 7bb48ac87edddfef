"""The working-day calendar: official schedules, day arithmetic, caching, staff edits, seeding."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from zwfw.core import calendar
from zwfw.core.calendar import (
    SHANGHAI,
    add_days,
    add_working_days,
    deadline,
    is_working_day,
    local_date,
    next_working_day,
    working_days_between,
)
from zwfw.core.errors import NotFound, ValidationError
from zwfw.core.models import AuditRecord, CalendarDay

pytestmark = pytest.mark.django_db

D = dt.date
END_OF_DAY = dt.time(23, 59, 59, 999999)


def at(day: dt.date, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI)


@pytest.fixture
def seeded() -> None:
    calendar.seed_calendar()


# --- the shipped data ----------------------------------------------------------------------


def test_data_file_is_well_formed() -> None:
    document = json.loads(calendar.DATA_FILE.read_text(encoding="utf-8"))
    assert [y["year"] for y in document["years"]] == [2024, 2025, 2026, 2027]
    seen: set[str] = set()
    for year in document["years"]:
        assert year["source"]
        for day in year["days"]:
            assert day["date"] not in seen
            seen.add(day["date"])
            parsed = D.fromisoformat(day["date"])
            assert parsed.year == year["year"]
            calendar.validate_calendar_day(parsed, day["kind"], day["name"], year["source"])
    sources = {y["year"]: y["source"] for y in document["years"]}
    assert sources[2024] == "国办发明电〔2023〕7号"
    assert sources[2025] == "国办发明电〔2024〕12号"
    assert "尚未公布" in sources[2027]
    assert not next(y for y in document["years"] if y["year"] == 2027)["complete"]


def test_seeded_2024_to_2026_agree_with_chinese_calendar_package(seeded: None) -> None:
    snapshot = calendar.calendar_snapshot()
    day = D(2024, 1, 1)
    disagreements = []
    while day <= D(2026, 12, 31):
        if snapshot.is_working_day(day) != chinese_calendar.is_workday(day):
            disagreements.append(day)
        day += dt.timedelta(days=1)
    assert disagreements == []


def test_2027_has_statutory_holidays_only(seeded: None) -> None:
    statutory = {
        D(2027, 1, 1),
        *(D(2027, 2, d) for d in (5, 6, 7, 8)),  # 除夕 to 正月初三
        D(2027, 4, 5),
        D(2027, 5, 1),
        D(2027, 5, 2),
        D(2027, 6, 9),
        D(2027, 9, 15),
        *(D(2027, 10, d) for d in (1, 2, 3)),
    }
    rows = CalendarDay.objects.filter(date__year=2027)
    assert {r.date for r in rows} == statutory
    assert {r.kind for r in rows} == {"holiday"}
    assert all("调休安排尚未公布" in r.source for r in rows)
    assert not is_working_day(D(2027, 2, 5))  # Friday, 除夕
    assert not is_working_day(D(2027, 6, 9))  # Wednesday, 端午
    assert is_working_day(D(2027, 2, 9))


# --- official schedules --------------------------------------------------------------------


def test_2025_national_day_and_mid_autumn(seeded: None) -> None:
    for day in range(1, 9):
        assert not is_working_day(D(2025, 10, day)), day
    assert is_working_day(D(2025, 9, 28))  # Sunday, 调休上班
    assert is_working_day(D(2025, 10, 11))  # Saturday, 调休上班
    assert not is_working_day(D(2025, 9, 27))  # ordinary Saturday
    assert is_working_day(D(2025, 10, 9))
    assert CalendarDay.objects.get(date=D(2025, 10, 6)).name == "中秋节"
    assert CalendarDay.objects.get(date=D(2025, 10, 1)).source == "国办发明电〔2024〕12号"
    # Sep 28, 29, 30, Oct 9, 10, 11
    assert working_days_between(D(2025, 9, 26), D(2025, 10, 12)) == 6


def test_2026_spring_festival(seeded: None) -> None:
    for day in range(15, 24):
        assert not is_working_day(D(2026, 2, day)), day
    assert is_working_day(D(2026, 2, 14))  # Saturday before
    assert is_working_day(D(2026, 2, 28))  # Saturday after
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert next_working_day(D(2026, 2, 14)) == D(2026, 2, 24)
    # 14, 24, 25, 26, 27, 28
    assert working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 6


def test_j1_friday_night_before_national_day_2025(seeded: None) -> None:
    submitted = dt.datetime(2025, 9, 26, 21, 40, tzinfo=SHANGHAI)  # Friday
    accepted_on = next_working_day(local_date(submitted))
    assert accepted_on == D(2025, 9, 28)  # Sunday worked in exchange for the holiday
    # 5 working days: Sep 29, Sep 30, (Oct 1–8 off) Oct 9, Oct 10, Oct 11 (Saturday worked).
    assert deadline(at(accepted_on, 9, 15), 5, "working") == end_of(D(2025, 10, 11))
    assert deadline(at(accepted_on), 5, "working").utcoffset() == dt.timedelta(hours=8)


def test_j1_friday_night_before_national_day_2026(seeded: None) -> None:
    # The Friday before the 2026 holiday is itself 中秋节 (Sep 25–27 off).
    submitted = dt.datetime(2026, 9, 25, 21, 40, tzinfo=SHANGHAI)
    accepted_on = next_working_day(local_date(submitted))
    assert accepted_on == D(2026, 9, 28)
    # Sep 29, Sep 30, (Oct 1–7 off) Oct 8, Oct 9, Oct 10 (Saturday worked).
    assert deadline(at(accepted_on), 5, "working") == end_of(D(2026, 10, 10))
    # Submitted on the last working day before the holiday instead.
    last = dt.datetime(2026, 9, 30, 21, 40, tzinfo=SHANGHAI)
    accepted_on = next_working_day(local_date(last))
    assert accepted_on == D(2026, 10, 8)
    assert deadline(at(accepted_on), 5, "working") == end_of(D(2026, 10, 14))


def test_local_date_uses_shanghai_and_refuses_naive() -> None:
    just_after_midnight = dt.datetime(2025, 9, 26, 16, 30, tzinfo=dt.UTC)  # Sat 00:30 local
    assert local_date(just_after_midnight) == D(2025, 9, 27)
    with pytest.raises(ValueError, match="aware"):
        local_date(dt.datetime(2025, 9, 26, 12, 0))  # naive on purpose


# --- arithmetic ----------------------------------------------------------------------------


def test_zero_and_negative_counts(seeded: None) -> None:
    assert add_working_days(D(2025, 9, 30), 0) == D(2025, 9, 30)
    assert add_working_days(D(2025, 10, 1), 0) == D(2025, 10, 9)
    assert add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert add_working_days(D(2025, 10, 11), -3) == D(2025, 9, 30)
    assert add_working_days(D(2025, 10, 5), -1) == D(2025, 9, 30)
    assert working_days_between(D(2025, 10, 9), D(2025, 9, 28)) == -3  # Sep 29, 30, Oct 9
    assert working_days_between(D(2025, 10, 3), D(2025, 10, 3)) == 0
    assert working_days_between(D(2025, 10, 2), D(2025, 10, 8)) == 0


def test_across_year_ends(seeded: None) -> None:
    # 2026-01-01..03 off, Sunday 01-04 worked.
    assert add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert add_working_days(D(2026, 1, 4), -1) == D(2025, 12, 31)
    assert working_days_between(D(2025, 12, 31), D(2026, 1, 5)) == 2
    # 2023 has no rows: plain Monday–Friday.
    assert add_working_days(D(2023, 12, 29), 1) == D(2024, 1, 2)  # 2024-01-01 元旦
    assert working_days_between(D(2023, 12, 22), D(2023, 12, 29)) == 5


def test_inverse_property_over_a_long_span(seeded: None) -> None:
    snapshot = calendar.calendar_snapshot()
    start = D(2024, 12, 20)
    for n in range(1, 400, 7):
        end = snapshot.add_working_days(start, n)
        assert snapshot.is_working_day(end)
        assert snapshot.working_days_between(start, end) == n
        assert snapshot.add_working_days(end, -n) <= start


def test_whole_years_count(seeded: None) -> None:
    expected = sum(
        1 for i in range(365) if chinese_calendar.is_workday(D(2025, 1, 1) + dt.timedelta(days=i))
    )
    assert working_days_between(D(2024, 12, 31), D(2025, 12, 31)) == expected == 248


def test_natural_days(seeded: None) -> None:
    assert add_days(D(2025, 9, 26), 5, "natural") == D(2025, 10, 1)
    assert add_days(D(2025, 9, 26), -26, "natural") == D(2025, 8, 31)
    assert add_days(D(2025, 9, 26), 5, calendar.DayUnit.WORKING) == D(2025, 10, 10)
    submitted = at(D(2025, 9, 26), 10)
    # The 5th natural day is Oct 1, a holiday: the period ends after the holiday (民法典 203).
    assert deadline(submitted, 5, "natural") == end_of(D(2025, 10, 9))
    assert deadline(submitted, 5, "natural", extend_past_rest_days=False) == end_of(D(2025, 10, 1))
    assert deadline(submitted, 3, "natural") == end_of(D(2025, 9, 29))


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        add_days(D(2025, 1, 1), 3, "weeks")
    assert caught.value.code == "calendar.unit_invalid"


# --- speed and caching ---------------------------------------------------------------------


def test_query_counts(seeded: None, django_assert_max_num_queries) -> None:
    calendar.invalidate_cache()
    with django_assert_max_num_queries(2):
        # 247 more working days in 2025, then Jan 4 (Sunday worked), 5, 6 of 2026.
        assert add_working_days(D(2025, 1, 2), 250) == D(2026, 1, 6)
    with django_assert_max_num_queries(1):
        add_working_days(D(2025, 1, 2), 250)
    calendar.invalidate_cache()
    with django_assert_max_num_queries(2):
        assert working_days_between(D(2020, 1, 1), D(2030, 12, 31)) > 2700
    snapshot = calendar.calendar_snapshot()
    with django_assert_max_num_queries(0):
        for day in range(1, 29):
            snapshot.deadline(at(D(2025, 2, day)), 20, "working")


def test_edit_through_service_is_seen_at_once(seeded: None) -> None:
    monday = D(2025, 12, 29)
    assert is_working_day(monday)
    calendar.set_calendar_day(monday, "holiday", "临时闭馆", "示例市人民政府通告〔2025〕1号")
    assert not is_working_day(monday)
    assert add_working_days(D(2025, 12, 26), 1) == D(2025, 12, 30)
    calendar.remove_calendar_day(monday)
    assert is_working_day(monday)


def test_change_made_elsewhere_is_seen_through_the_stamp(seeded: None) -> None:
    """Another process edits the table: this process's cache must not hide it."""
    assert not is_working_day(D(2025, 10, 8))
    CalendarDay.objects.filter(date=D(2025, 10, 8)).delete()  # behind the cache's back
    assert is_working_day(D(2025, 10, 8))
    CalendarDay.objects.filter(date=D(2025, 10, 11)).update(
        kind="holiday", updated_at=timezone.now()
    )
    assert not is_working_day(D(2025, 10, 11))


# --- staff edits ---------------------------------------------------------------------------


def test_set_calendar_day_creates_updates_and_audits() -> None:
    saturday = D(2027, 2, 20)
    row = calendar.set_calendar_day(saturday, "workday", "春节调休上班", "国办发明电〔2026〕9号")
    assert is_working_day(saturday)
    created = AuditRecord.objects.get(action="core:calendar_day:set")
    assert (created.object_type, created.object_id) == ("core.calendar_day", "2027-02-20")
    assert created.before is None
    assert created.after == {
        "date": "2027-02-20",
        "kind": "workday",
        "name": "春节调休上班",
        "source": "国办发明电〔2026〕9号",
    }
    same = calendar.set_calendar_day(
        saturday, "workday", " 春节调休上班 ", "国办发明电〔2026〕9号", actor="user:7"
    )
    assert same.pk == row.pk
    assert AuditRecord.objects.filter(action="core:calendar_day:set").count() == 1  # no-op
    calendar.set_calendar_day(saturday, "holiday", "春节", "国办发明电〔2026〕9号", actor="user:7")
    changed = AuditRecord.objects.filter(action="core:calendar_day:set").last()
    assert changed is not None
    assert changed.actor == "user:7"
    assert changed.before["kind"] == "workday"
    assert changed.after["kind"] == "holiday"
    assert CalendarDay.objects.get(date=saturday).kind == "holiday"


def test_remove_calendar_day_audits_and_refuses_unknown_date() -> None:
    calendar.set_calendar_day(D(2027, 3, 1), "holiday", "示例", "示例通知")
    calendar.remove_calendar_day(D(2027, 3, 1), actor="user:3")
    removed = AuditRecord.objects.get(action="core:calendar_day:remove")
    assert removed.before["name"] == "示例"
    assert removed.after is None
    assert not CalendarDay.objects.filter(date=D(2027, 3, 1)).exists()
    with pytest.raises(NotFound) as caught:
        calendar.remove_calendar_day(D(2027, 3, 1))
    assert caught.value.code == "calendar.day_not_found"


@pytest.mark.parametrize(
    ("day", "kind", "name", "source", "code"),
    [
        (D(2025, 12, 29), "workday", "调休", "通知", "calendar.workday_not_weekend"),
        (D(2025, 12, 27), "off", "调休", "通知", "calendar.kind_invalid"),
        (D(2025, 12, 27), "workday", "  ", "通知", "calendar.name_required"),
        (D(2025, 12, 27), "workday", "调休", "", "calendar.source_required"),
        (D(2025, 12, 27), "workday", "调" * 65, "通知", "calendar.name_too_long"),
        (D(2025, 12, 27), "workday", "调休", "通" * 129, "calendar.source_too_long"),
        (
            dt.datetime(2025, 12, 27, tzinfo=dt.UTC),
            "workday",
            "调休",
            "通知",
            "calendar.date_invalid",
        ),
    ],
)
def test_invalid_edits_are_refused_and_change_nothing(day, kind, name, source, code) -> None:
    with pytest.raises(ValidationError) as caught:
        calendar.set_calendar_day(day, kind, name, source)
    assert caught.value.code == code
    assert caught.value.message  # Chinese text for people
    assert not CalendarDay.objects.exists()
    assert not AuditRecord.objects.exists()


# --- seeding -------------------------------------------------------------------------------


def test_seed_is_idempotent() -> None:
    first = calendar.seed_calendar()
    assert first == CalendarDay.objects.count() == 121  # 36 + 33 + 39 + 13 (2024–2027)
    assert calendar.seed_calendar() == 0
    assert AuditRecord.objects.filter(action="core:calendar:seed").count() == 1


def test_seed_keeps_staff_edits_and_repairs_untouched_rows() -> None:
    calendar.seed_calendar([2025])
    calendar.set_calendar_day(D(2025, 10, 8), "holiday", "国庆节（更正）", "本市补充通知")
    calendar.remove_calendar_day(D(2025, 10, 11))
    # A row changed outside the services (no audit record) counts as seed data.
    CalendarDay.objects.filter(date=D(2025, 5, 2)).update(name="误改")
    assert calendar.seed_calendar([2025]) == 1
    assert CalendarDay.objects.get(date=D(2025, 5, 2)).name == "劳动节"
    assert CalendarDay.objects.get(date=D(2025, 10, 8)).name == "国庆节（更正）"
    assert not CalendarDay.objects.filter(date=D(2025, 10, 11)).exists()
    seed_audit = AuditRecord.objects.filter(action="core:calendar:seed").last()
    assert seed_audit is not None
    assert seed_audit.after["kept_staff_edits"] == ["2025-10-08", "2025-10-11"]


def test_seed_unknown_year_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        calendar.seed_calendar([2025, 2031])
    assert caught.value.code == "calendar.seed_year_unknown"
    assert not CalendarDay.objects.exists()


def test_seed_calendar_command() -> None:
    out = StringIO()
    call_command("seed_calendar", "--year", "2026", stdout=out)
    assert "2026" in out.getvalue()
    assert CalendarDay.objects.count() == 39
    with pytest.raises(CommandError, match=r"calendar\.seed_year_unknown"):
        call_command("seed_calendar", "--year", "1999", stdout=StringIO())


# --- admin ---------------------------------------------------------------------------------


def test_admin_saves_and_deletes_through_the_services(admin_client: Client, admin_user) -> None:
    response = admin_client.post(
        "/admin/core/calendarday/add/",
        {"date": "2027-02-20", "kind": "workday", "name": "春节调休上班", "source": "通知"},
    )
    assert response.status_code == 302
    row = CalendarDay.objects.get(date=D(2027, 2, 20))
    record = AuditRecord.objects.get(action="core:calendar_day:set")
    assert record.actor == f"user:{admin_user.pk}"
    refused = admin_client.post(
        "/admin/core/calendarday/add/",
        {"date": "2027-02-22", "kind": "workday", "name": "调休", "source": "通知"},
    )
    assert refused.status_code == 200
    assert "调休上班日只能是周六或周日" in refused.content.decode()
    assert not CalendarDay.objects.filter(date=D(2027, 2, 22)).exists()
    deleted = admin_client.post(f"/admin/core/calendarday/{row.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not CalendarDay.objects.exists()
    assert AuditRecord.objects.filter(action="core:calendar_day:remove").count() == 1
