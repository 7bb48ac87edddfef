from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "zwfw.core"
    label = "core"
    verbose_name = "共享内核 Shared kernel"
