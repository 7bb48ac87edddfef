from typing import Any

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "zwfw.identity"
    label = "identity"
    verbose_name = "统一身份认证 Identity"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # Every sign-in, also Django's own (admin, test clients), gets a session row, so that
        # the session list is complete and remote logout works for all of them.
        def track(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
            from zwfw.identity.services import track_session

            if request is not None and hasattr(request, "session"):
                track_session(request, user)

        user_logged_in.connect(track, weak=False, dispatch_uid="zwfw.identity.track_session")
