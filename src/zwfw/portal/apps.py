from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "zwfw.portal"
    label = "portal"
    verbose_name = "门户 Portal"
