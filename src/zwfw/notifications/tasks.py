"""Background tasks of the outbox (run by ``zwfw worker``)."""

from __future__ import annotations

from django_tasks import task

from zwfw.notifications import services


@task()
def deliver_message(message_id: str) -> str:
    """Deliver one outbox message if it is due; safe to run twice (see services.deliver)."""
    return services.deliver(message_id).value


@task()
def deliver_due_messages(limit: int = 100) -> int:
    """Sweep: deliver every due message, up to ``limit``."""
    return services.deliver_due(limit)
