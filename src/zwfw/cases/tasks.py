"""Background tasks of case handling (run by ``zwfw worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def render_notice_task(notice_id: int) -> str:
    """Render a deferred notice's PDF; safe to run twice."""
    from zwfw.cases.notices import render_notice

    return render_notice(notice_id).number


@task()
def recompute_due_dates_task() -> int:
    """Refresh the due dates of open cases after the holiday table changed."""
    from zwfw.cases.services import recompute_due_dates

    return recompute_due_dates()


@task()
def remind_due_tasks_task() -> int:
    """Daily sweep: remind handlers of steps due today or overdue; fire BPMN timers."""
    from zwfw.cases.services import remind_due_tasks

    return remind_due_tasks()
