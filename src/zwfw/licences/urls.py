from django.urls import path

from zwfw.licences import views

app_name = "licences"

urlpatterns = [path("verify/", views.verify_page, name="verify")]
