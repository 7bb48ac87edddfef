"""The demo hook, the refresh command and the tasks."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from zwfw.indicators.models import DailyRollup, IndicatorSnapshot


def test_demo_stores_snapshots_once(world: dict[str, Any]) -> None:
    from zwfw.indicators.demo import load_demo

    first = load_demo()
    assert first["indicator_snapshots"] == 2
    assert first["indicator_rollup_rows"] == DailyRollup.objects.count()
    assert load_demo()["indicator_snapshots"] == 0
    assert IndicatorSnapshot.objects.filter(department__isnull=True).count() == 2


def test_refresh_command_rebuilds_the_rollups(world: dict[str, Any]) -> None:
    DailyRollup.objects.all().delete()
    out = io.StringIO()
    call_command("indicators_refresh", stdout=out)
    assert "rollup rows" in out.getvalue()
    # (day, department) pairs of the world: see conftest — March and April days of A and B
    assert DailyRollup.objects.filter(day__month=3).exists()
    assert sum(DailyRollup.objects.values_list("closed", flat=True)) == 7  # 6 in March + c6


def test_refresh_command_rejects_bad_days(world: dict[str, Any]) -> None:
    with pytest.raises(CommandError):
        call_command("indicators_refresh", "--days", "-1")


def test_refresh_task(world: dict[str, Any]) -> None:
    from zwfw.indicators.tasks import refresh_rollups_task

    DailyRollup.objects.all().delete()
    refresh_rollups_task.enqueue(None)
    assert sum(DailyRollup.objects.values_list("submitted", flat=True)) == 9
