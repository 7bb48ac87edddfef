from django.apps import AppConfig


class RegistriesConfig(AppConfig):
    name = "zwfw.registries"
    label = "registries"
    verbose_name = "基础资源库 Base registries"

    def ready(self) -> None:
        # The OAuth scopes registry.<registry>.<mode> of client-credentials tokens (zwfw.sso).
        from zwfw.registries.auth import register_oauth_scopes

        register_oauth_scopes()
