from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "zwfw.identity"
    label = "identity"
    verbose_name = "统一身份认证 Identity"
