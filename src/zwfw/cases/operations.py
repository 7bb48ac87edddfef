"""Platform operations that BPMN service tasks may call (the whitelist).

A service task names one with ``zwfw:operation="…"``; :mod:`zwfw.cases.bpmn_import` refuses a
file naming anything not registered here. Each operation gets the case being handled and the
task data, and returns data to merge into the workflow (or None).
"""

from __future__ import annotations

from typing import Any

from zwfw.cases.engine import service_operation


@service_operation("notify_applicant")
def notify_applicant(case: Any, data: dict[str, Any]) -> dict[str, Any] | None:
    """Nothing to do at this point: the close step notifies the applicant (see services)."""
    return {"applicant_notified": True}


@service_operation("remind_handlers")
def remind_handlers(case: Any, data: dict[str, Any]) -> dict[str, Any] | None:
    """Timer-driven reminder to whoever holds the case's open tasks."""
    if case is None:
        return None
    from zwfw.cases.services import remind_open_tasks

    remind_open_tasks(case)
    return None
