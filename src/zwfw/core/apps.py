from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zwfw.core"
    label = "core"
    verbose_name = "共享内核 Shared kernel"

    def ready(self) -> None:
        from zwfw.core import checks  # noqa: F401  (registers the system checks)
