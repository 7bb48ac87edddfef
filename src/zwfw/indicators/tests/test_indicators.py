"""Every formula against figures counted by hand from the world of conftest.py.

March 2026, whole node — the counts:

* published items 3: item1 (A; channels 1 2; depth Ⅳ; 0 visits; delivery; complete guide),
  item2 (A; channel 1; depth Ⅰ; 2 visits; appointment; fee without online payment; no place,
  no consult phone, no FAQ), item3 (B; channels 1 3; depth Ⅲ; 1 visit; appointment; fee with
  online payment).
* submitted in March: c1 c2 c3 c4 c7 c8 c9 = 7, online (channel 2): c1 c3 c4 c8 c9 = 5
  (c5 was submitted on 27 Feb).
* closed in March (status closed, Beijing day of closed_at): c1 c2 c3 c5 c8 c9 = 6 (c7 is
  refused; c5 closed 00:30 on 1 March Beijing = 28 Feb UTC; c6 closed in April).
  With a due date: c1 c2 c3 c5 c9 = 5; on time: c1 (10 ≤ 12), c3 (23:30 on the due day), c9
  = 3; late: c2, c5 (due 28 Feb).  Online with an item of 0 visits: c1 c5 = 2.  Electronic
  delivery: c1 c3 c5 c9 = 4.
* ratings in March, not excluded: r1 (1) r2 (5) r3 (2) r4 (4) r5 (3) = 5; satisfied (1, 2):
  r1 r3 = 2.  r6 is excluded (appeal upheld).
* rectifications of March's bad ratings (not excluded): r2 ledger, r4 fixed = 2; rectified 1.
* warnings raised in March: 3 (red c2, yellow c2, yellow c9); the test world's ceiling is 1000
  per 1,000 cases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from zwfw.indicators import rollups, selectors
from zwfw.indicators.selectors import Period, Scope

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
NODE = Scope(None)


def by_code(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for first in result["indicators"]:
        out[first["code"]] = first
        for second in first["children"]:
            out[second["code"]] = second
    return out


EXPECTED_NODE = {
    # code: (numerator, denominator, value, score)
    "online_application_rate": (2, 3, 0.6667, 66.67),
    "mobile_rate": (1, 3, 0.3333, 33.33),
    "appointment_rate": (2, 3, 0.6667, 66.67),
    "delivery_rate": (1, 3, 0.3333, 33.33),
    "online_payment_rate": (1, 2, 0.5, 50.0),
    "depth_iii_rate": (2, 3, 0.6667, 66.67),
    "depth_iv_rate": (1, 3, 0.3333, 33.33),
    "max_one_visit_rate": (2, 3, 0.6667, 66.67),
    "zero_visit_item_rate": (1, 3, 0.3333, 33.33),
    "guide_complete_rate": (2, 3, 0.6667, 66.67),
    "contact_complete_rate": (2, 3, 0.6667, 66.67),
    "faq_rate": (2, 3, 0.6667, 66.67),
    "online_submission_rate": (5, 7, 0.7143, 71.43),
    "zero_visit_completion_rate": (2, 6, 0.3333, 33.33),
    "electronic_delivery_rate": (4, 6, 0.6667, 66.67),
    "on_time_rate": (3, 5, 0.6, 60.0),
    "satisfaction_rate": (2, 5, 0.4, 40.0),
    "rectification_rate": (1, 2, 0.5, 50.0),
    # 3 / 7 × 1000 = 428.5714; score 100 × (1 − 428.5714 / 1000) = 57.14
    "warning_rate": (3, 7, 428.5714, 57.14),
}


def test_every_second_level_indicator_of_the_node(world: dict[str, Any]) -> None:
    result = selectors.compute(NODE, MARCH)
    found = by_code(result)
    for code, (numerator, denominator, value, score) in EXPECTED_NODE.items():
        row = found[code]
        assert (row["numerator"], row["denominator"]) == (numerator, denominator), code
        assert row["value"] == pytest.approx(value, abs=1e-9), code
        assert row["score"] == pytest.approx(score, abs=1e-9), code


def test_first_level_scores_and_total_with_the_default_weights(world: dict[str, Any]) -> None:
    found = by_code(selectors.compute(NODE, MARCH))
    # (30×66.67 + 20×33.33 + 15×66.67 + 15×33.33 + 20×50) / 100 = 51.667
    assert found["service_modes"]["score"] == pytest.approx(51.67)
    # (35×66.67 + 25×33.33 + 25×66.67 + 15×33.33) / 100 = 53.334
    assert found["item_coverage"]["score"] == pytest.approx(53.33)
    assert found["guide_accuracy"]["score"] == pytest.approx(66.67)
    # (40×71.43 + 40×33.33 + 20×66.67) / 100 = 55.238
    assert found["online_maturity"]["score"] == pytest.approx(55.24)
    # (30×60 + 30×40 + 20×50 + 20×57.14) / 100 = 51.428
    assert found["effectiveness"]["score"] == pytest.approx(51.43)
    # (15×51.67 + 20×53.33 + 20×66.67 + 20×55.24 + 25×51.43) / 100 = 55.656
    result = selectors.compute(NODE, MARCH)
    assert result["total_score"] == pytest.approx(55.66, abs=0.006)


def test_one_department(world: dict[str, Any]) -> None:
    """Department A (市场监管) in March: items 1 and 2; cases c1 c2 c3 c4 c5 c7."""
    found = by_code(selectors.compute(Scope((world["market"].pk,)), MARCH))
    expected = {
        "online_application_rate": (1, 2),  # item1
        "online_payment_rate": (0, 1),  # item2 charges, no online payment
        "depth_iii_rate": (1, 2),
        "guide_complete_rate": (1, 2),
        "online_submission_rate": (3, 5),  # c1 c3 c4 of c1 c2 c3 c4 c7
        "zero_visit_completion_rate": (2, 4),  # c1 c5 of c1 c2 c3 c5
        "on_time_rate": (2, 4),  # c1 c3 of c1 c2 c3 c5
        "satisfaction_rate": (2, 3),  # r1 r3 of r1 r2 r3
        "rectification_rate": (0, 1),  # r2 is in the ledger, not yet rectified
        "warning_rate": (2, 5),
    }
    for code, counts in expected.items():
        assert (found[code]["numerator"], found[code]["denominator"]) == counts, code
    assert found["rectification_rate"]["score"] == 0.0
    assert found["warning_rate"]["value"] == 400.0
    assert found["warning_rate"]["score"] == 60.0


def test_an_empty_denominator_is_left_out_of_the_mean(world: dict[str, Any]) -> None:
    """January: no cases, ratings or warnings — only the catalogue indicators score."""
    january = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    found = by_code(selectors.compute(NODE, january))
    assert found["on_time_rate"]["value"] is None
    assert found["on_time_rate"]["score"] is None
    assert found["online_maturity"]["score"] is None
    assert found["effectiveness"]["score"] is None
    # total over the three catalogue indicators only: (15×51.67 + 20×53.33 + 20×66.67) / 55
    result = selectors.compute(NODE, january)
    assert result["total_score"] == pytest.approx(
        (15 * 51.67 + 20 * 53.33 + 20 * 66.67) / 55, abs=0.006
    )


def test_warning_ceiling_caps_the_score_at_zero(world: dict[str, Any], settings: Any) -> None:
    settings.INDICATORS_WARNING_CEILING = 100
    found = by_code(selectors.compute(NODE, MARCH))
    assert found["warning_rate"]["value"] == pytest.approx(428.5714)
    assert found["warning_rate"]["score"] == 0.0


def test_trend_per_month(world: dict[str, Any]) -> None:
    period = Period(dt.date(2026, 2, 1), dt.date(2026, 4, 30))
    months = {row["month"]: row for row in selectors.trend(NODE, period)}
    assert list(months) == ["2026-02", "2026-03", "2026-04"]
    assert months["2026-02"]["submitted"] == 1  # c5
    assert months["2026-02"]["on_time_rate"] is None
    assert months["2026-03"]["on_time_rate"] == 0.6
    assert months["2026-03"]["satisfaction_rate"] == 0.4
    assert months["2026-04"]["closed"] == 1  # c6
    assert months["2026-04"]["on_time_rate"] == 1.0
    assert months["2026-04"]["satisfaction_rate"] == 1.0  # r7


def test_rollup_refresh_of_recent_days_sees_a_new_closure(world: dict[str, Any]) -> None:
    from django.utils import timezone

    from zwfw.cases.models import Case

    today = timezone.localdate()
    c4 = world["cases"]["c4"]
    Case.objects.filter(pk=c4.pk).update(
        status="closed", closed_at=timezone.now(), due_date=today, updated_at=timezone.now()
    )
    period = Period(today, today)
    assert selectors.rollup_counts(NODE, period)["closed"] == 0
    rollups.refresh(today - dt.timedelta(days=1))
    counts = selectors.rollup_counts(NODE, period)
    assert (counts["closed"], counts["closed_on_time"]) == (1, 1)
    # March's rows, outside the window, are untouched
    assert selectors.rollup_counts(NODE, MARCH)["closed"] == 6


def test_ensure_fresh_refreshes_when_stale(world: dict[str, Any], settings: Any) -> None:
    from django.utils import timezone

    from zwfw.cases.models import Case
    from zwfw.indicators.models import RollupState

    RollupState.objects.filter(pk=1).update(refreshed_at=timezone.now() - dt.timedelta(hours=1))
    today = timezone.localdate()
    Case.objects.filter(pk=world["cases"]["c4"].pk).update(
        status="closed", closed_at=timezone.now(), due_date=today, updated_at=timezone.now()
    )
    settings.INDICATORS_ROLLUP_MAX_AGE = 600
    before = rollups.refreshed_at()
    after = rollups.ensure_fresh()
    assert after is not None
    assert before is not None
    assert after > before
    assert selectors.rollup_counts(NODE, Period(today, today))["closed"] == 1
    # fresh now: a second call does not refresh again
    assert rollups.ensure_fresh() == after


def test_compute_is_a_fixed_number_of_queries(
    world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(5):
        selectors.compute(NODE, MARCH)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026", ("2026-01-01", "2026-12-31")),
        ("2026-02", ("2026-02-01", "2026-02-28")),
        ("2024-02", ("2024-02-01", "2024-02-29")),
        ("2026-12", ("2026-12-01", "2026-12-31")),
        ("2026-Q2", ("2026-04-01", "2026-06-30")),
    ],
)
def test_named_periods(text: str, expected: tuple[str, str]) -> None:
    period = selectors.parse_period(period=text)
    assert (period.start.isoformat(), period.end.isoformat()) == expected


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"period": "2026-13"}, "indicators.period_invalid"),
        ({"period": "26-01"}, "indicators.period_invalid"),
        ({"period": "2026-Q5"}, "indicators.period_invalid"),
        ({"start": dt.date(2026, 3, 2), "end": dt.date(2026, 3, 1)}, "indicators.period_reversed"),
        ({"start": dt.date(2010, 1, 1), "end": dt.date(2026, 1, 1)}, "indicators.period_too_long"),
    ],
)
def test_bad_periods(kwargs: dict[str, Any], code: str) -> None:
    from zwfw.core.errors import ValidationError

    with pytest.raises(ValidationError) as raised:
        selectors.parse_period(**kwargs)
    assert raised.value.code == code


def test_default_period_is_twelve_calendar_months() -> None:
    period = selectors.parse_period(end=dt.date(2026, 3, 15))
    assert (period.start, period.end) == (dt.date(2025, 4, 1), dt.date(2026, 3, 15))


def test_catalogue_counts_follow_a_published_item(world: dict[str, Any], settings: Any) -> None:
    """A new published item counts after the next refresh (items changed since the last one)."""
    from django.utils import timezone

    from zwfw.indicators.models import RollupState
    from zwfw.indicators.tests.conftest import publish

    publish(
        world["planning"],
        name="建设工程规划许可（变更）",
        basic_code="XK00012005",
        implementation_code="XK00012005-3-511600-11511600511600040M-03",
    )
    assert selectors.catalog_counts(NODE)["published"] == 3  # not refreshed yet
    RollupState.objects.filter(pk=1).update(refreshed_at=timezone.now() - dt.timedelta(hours=1))
    found = by_code(selectors.compute(NODE, MARCH))
    assert (found["depth_iv_rate"]["numerator"], found["depth_iv_rate"]["denominator"]) == (2, 4)


def test_incremental_refresh_keeps_older_case_days_and_recounts_ratings(
    world: dict[str, Any], settings: Any
) -> None:
    """The look-back recounts ratings (an upheld appeal excludes one) but keeps the case
    columns of days before the last refresh as stored, reading only cases updated since."""
    from django.utils import timezone

    from zwfw.indicators.models import RollupState
    from zwfw.indicators.tests.conftest import make_case
    from zwfw.ratings.models import Rating

    now = timezone.now()
    five_days_ago = now - dt.timedelta(days=5)
    item1 = world["items"][0]
    case = make_case(
        "511600202611200001", item1, world["person"], submitted=five_days_ago,
        closed=five_days_ago, due=timezone.localdate(five_days_ago).isoformat(),
    )  # fmt: skip
    rating = Rating.objects.create(
        kind="case", case=case, department=case.department, item=item1, level=5, channel="1"
    )
    Rating.objects.filter(pk=rating.pk).update(created_at=five_days_ago)
    rollups.refresh()
    window = Period(timezone.localdate(five_days_ago), timezone.localdate(now))
    before = selectors.rollup_counts(NODE, window)
    assert (before["submitted"], before["closed_on_time"], before["level_5"]) == (1, 1, 1)

    Rating.objects.filter(pk=rating.pk).update(excluded=True)
    RollupState.objects.filter(pk=1).update(refreshed_at=now - dt.timedelta(minutes=10))
    settings.INDICATORS_ROLLUP_MAX_AGE = 60
    rollups.ensure_fresh()
    after = selectors.rollup_counts(NODE, window)
    assert after["level_5"] == 0
    assert (after["submitted"], after["closed_on_time"]) == (1, 1)
