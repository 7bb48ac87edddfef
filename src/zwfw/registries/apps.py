from django.apps import AppConfig


class RegistriesConfig(AppConfig):
    name = "zwfw.registries"
    label = "registries"
    verbose_name = "基础资源库 Base registries"
