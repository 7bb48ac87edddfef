"""Demo data of the indicators: up-to-date rollups and stored snapshots, so the dashboard
(``/workbench/dashboards/``, demo accounts ``supervisor`` or ``admin``) shows numbers right
after ``make run``. Called by ``zwfw load_demo`` after supervision and ratings; loading twice
stores nothing new.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from zwfw.indicators import rollups, selectors, services
from zwfw.indicators.models import IndicatorSnapshot


def load_demo() -> dict[str, int]:
    rows = rollups.refresh()
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    periods = [
        selectors.Period(last_month_end.replace(day=1), last_month_end),
        selectors.parse_period(end=today),  # the dashboard's default: 12 calendar months
    ]
    stored = 0
    for period in periods:
        if IndicatorSnapshot.objects.filter(
            department__isnull=True, period_from=period.start, period_to=period.end
        ).exists():
            continue
        services.take_snapshot(None, selectors.Scope(None), period)
        stored += 1
    return {"indicator_rollup_rows": rows, "indicator_snapshots": stored}
