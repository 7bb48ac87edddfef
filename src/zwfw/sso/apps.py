from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "zwfw.sso"
    label = "sso"
    verbose_name = "单点登录 Single sign-on"
