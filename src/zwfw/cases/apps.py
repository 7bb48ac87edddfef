from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "zwfw.cases"
    label = "cases"
    verbose_name = "办件 Cases"

    def ready(self) -> None:
        # Service operations that BPMN service tasks may call are registered on import.
        from zwfw.cases import operations  # noqa: F401
        from zwfw.cases.api_dataset import register_oauth_scope
        from zwfw.core import calendar

        calendar.CHANGE_HOOKS.append(_recompute_due_dates_later)
        # The machine scope cases.dataset (client-credentials tokens) must be known to
        # management commands too, which never load the URL configuration.
        register_oauth_scope()


def _recompute_due_dates_later() -> None:
    """A holiday or swapped working day changed: due dates of open cases move (worker)."""
    from zwfw.cases.tasks import recompute_due_dates_task

    recompute_due_dates_task.enqueue()
