from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "zwfw.supervision"
    label = "supervision"
    verbose_name = "电子监察 Supervision"
