"""Clerk pages of the identity app, mounted at ``/workbench/identity/``."""

from django.urls import path

from zwfw.identity import views

app_name = "identity_workbench"

urlpatterns = [
    path("register/", views.window_register_view, name="register"),
]
