"""Background tasks of the indicators (run by ``zwfw worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def refresh_rollups_task(days: int | None = 2) -> int:
    """Recompute the rollups of the last ``days`` days (all when None); safe to run twice."""
    import datetime as dt

    from django.utils import timezone

    from zwfw.indicators import rollups

    day_from = None if days is None else timezone.localdate() - dt.timedelta(days=days)
    return rollups.refresh(day_from)


@task()
def snapshot_last_month_task() -> int:
    """Monthly: store last month's snapshots of the node and of each department with data."""
    from zwfw.indicators.services import snapshot_last_month

    return snapshot_last_month()
