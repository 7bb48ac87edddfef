from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "zwfw.notifications"
    label = "notifications"
    verbose_name = "消息通知 Notifications"

    def ready(self) -> None:
        # Registers the built-in providers and the channel-mapping system check.
        from zwfw.notifications import providers  # noqa: F401
