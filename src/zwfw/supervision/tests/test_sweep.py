"""The schedule: the management command and the worker task run the same pass."""

from __future__ import annotations

import datetime as dt
import io
import json

from django.core.management import call_command

from zwfw.supervision import tasks
from zwfw.supervision.models import RunState, Warning
from zwfw.supervision.tests.conftest import at, make_case


def test_sweep_command_runs_a_full_pass(sv, freeze) -> None:
    case = make_case(sv)
    freeze(at(dt.date(2026, 10, 14)))
    out = io.StringIO()
    call_command("supervision_sweep", "--full", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["full"] is True
    assert summary["rules"]["R02"]["raised"] == 1
    assert Warning.objects.get(case=case).rule.code == "R02"
    # The next pass the same day is incremental and raises nothing new.
    out = io.StringIO()
    call_command("supervision_sweep", stdout=out)
    assert json.loads(out.getvalue())["full"] is False
    assert Warning.objects.count() == 1


def test_worker_task_runs_the_pass(sv, freeze) -> None:
    make_case(sv)
    freeze(at(dt.date(2026, 10, 17)))
    result = tasks.run_rules.enqueue(full=True)  # the immediate backend in tests
    assert result.return_value["rules"]["R03"]["raised"] == 1
    assert RunState.objects.get(pk=1).last_full_date == dt.date(2026, 10, 17)
