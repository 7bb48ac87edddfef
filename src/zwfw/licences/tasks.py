"""Background tasks of licences (run by ``zwfw worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def render_licence_files_task(licence_id: int) -> str:
    """Render and sign a licence's PDF and OFD issued at a case's close; safe to run twice."""
    from zwfw.licences.services import render_files

    return render_files(licence_id).identifier
