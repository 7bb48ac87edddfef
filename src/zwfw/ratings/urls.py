"""Public pages of 好差评: the page a rating QR code opens (include under ``ratings/``)."""

from django.urls import path

from zwfw.ratings import views

app_name = "ratings"

urlpatterns = [path("r/<str:token>", views.rate_page, name="rate")]
