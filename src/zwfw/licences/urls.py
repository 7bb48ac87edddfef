from django.urls import path

from zwfw.licences import views

app_name = "licences"

urlpatterns = [
    path("verify/", views.verify_page, name="verify"),
    path("mine/<str:identifier>/", views.my_licence_page, name="mine_detail"),
]
