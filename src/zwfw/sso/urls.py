"""Pages of the single-sign-on app (federation with external providers)."""

from django.urls import path

from zwfw.sso import federation

app_name = "sso"

urlpatterns = [
    path("federation/link", federation.link, name="federation-link"),
    path("federation/<slug:slug>/start", federation.start, name="federation-start"),
    path("federation/<slug:slug>/callback", federation.callback, name="federation-callback"),
]
