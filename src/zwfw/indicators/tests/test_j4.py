"""J4: a late case and an angry rating become a fix — and 在线服务成效度 moves with each step.

Through the ratings services (rate, verify with a ledger, return call, supervisor closes): the
indicator is computed for today only, where the world holds exactly this one case.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from zwfw.indicators import selectors
from zwfw.indicators.models import RollupState
from zwfw.indicators.selectors import Period, Scope
from zwfw.indicators.tests.conftest import make_case, staff
from zwfw.organisations.models import Role


def effectiveness(scope: Scope, period: Period) -> dict[str, Any]:
    # Make the next read refresh the rollups (as after ZWFW_INDICATORS_ROLLUP_MAX_AGE).
    RollupState.objects.filter(pk=1).update(refreshed_at=timezone.now() - dt.timedelta(hours=1))
    result = selectors.compute(scope, period)
    return next(f for f in result["indicators"] if f["code"] == "effectiveness")


def test_j4_effectiveness_moves_with_the_rating_and_its_fix(
    world: dict[str, Any], settings: Any
) -> None:
    from zwfw.ratings import services as ratings

    settings.INDICATORS_ROLLUP_MAX_AGE = 60
    market = world["market"]
    today = timezone.localdate()
    now = timezone.now()
    case = make_case(
        "511600202611270099", world["items"][0], world["person"],
        submitted=now - dt.timedelta(days=20), closed=now,
        due=(today - dt.timedelta(days=1)).isoformat(), delivery="electronic",
    )  # fmt: skip
    scope, period = Scope((market.pk,)), Period(today, today)

    before = effectiveness(scope, period)
    scores = {c["code"]: c["score"] for c in before["children"]}
    # closed a day late: 按时办结率 0 / 1; no rating, no rectification, nothing submitted today
    assert scores == {
        "on_time_rate": 0.0,
        "satisfaction_rate": None,
        "rectification_rate": None,
        "warning_rate": None,
    }
    assert before["score"] == 0.0

    rating = ratings.rate_case(world["person"], case, level=5, text="三次电话都没人接")
    rated = effectiveness(scope, period)
    found = {c["code"]: c for c in rated["children"]}
    assert (found["satisfaction_rate"]["numerator"], found["satisfaction_rate"]["denominator"]) == (
        0,
        1,
    )
    assert (
        found["rectification_rate"]["numerator"],
        found["rectification_rate"]["denominator"],
    ) == (0, 1)
    assert rated["score"] == 0.0

    manager = staff("market_admin", Role.DEPARTMENT_ADMIN, market)
    rect = rating.rectification
    rect = ratings.verify(
        manager, rect, outcome="ledger", verification="核实属实：窗口电话无人值守",
        measures="增设值守人员并公示备用电话", ledger_deadline=today + dt.timedelta(days=10),
    )  # fmt: skip
    assert effectiveness(scope, period)["score"] == 0.0  # 限期整改 is not yet a fix
    ratings.record_return_call(manager, rect, summary="已致电申请人说明整改措施")
    ratings.close(world["supervisor"], rect, opinion="整改到位，予以办结")
    closed = effectiveness(scope, period)
    found = {c["code"]: c for c in closed["children"]}
    assert (
        found["rectification_rate"]["numerator"],
        found["rectification_rate"]["denominator"],
    ) == (1, 1)
    # (30 × 0 + 30 × 0 + 20 × 100) / (30 + 30 + 20); 每千件预警数 has no cases submitted today
    assert closed["score"] == pytest.approx(25.0)
