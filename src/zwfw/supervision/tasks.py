"""Background tasks of 电子监察 (run by ``zwfw worker``)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def run_rules(full: bool = False) -> dict[str, Any]:
    """One supervision pass: full (and the first of each day), else the incremental one."""
    from zwfw.supervision import engine

    return engine.run_rules(full=full)
