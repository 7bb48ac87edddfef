"""Account pages, mounted at ``/accounts/`` (``LOGIN_URL`` is ``/accounts/login/``)."""

from django.urls import path

from zwfw.identity import views

app_name = "identity"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register_view, name="register"),
    path("register/linked/", views.register_linked_view, name="register_linked"),
    path("agreement/", views.agreement_view, name="agreement"),
    path("profile/", views.profile_view, name="profile"),
    path("password/change/", views.password_change_view, name="password_change"),
    path("password/reset/", views.password_reset_view, name="password_reset"),
    path("sessions/", views.sessions_view, name="sessions"),
    path("totp/", views.totp_view, name="totp"),
    path("agents/", views.agents_view, name="agents"),
]
