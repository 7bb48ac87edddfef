from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "zwfw.cases"
    label = "cases"
    verbose_name = "办件 Cases"

    def ready(self) -> None:
        # Service operations that BPMN service tasks may call are registered on import.
        from zwfw.cases import operations  # noqa: F401
