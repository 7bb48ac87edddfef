from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "zwfw.signing"
    label = "signing"
    verbose_name = "电子印章 Seals"
