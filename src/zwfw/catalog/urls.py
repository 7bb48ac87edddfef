"""Public catalogue pages, mounted at ``/items/``."""

from django.urls import path

from zwfw.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.item_index, name="index"),
    path("<str:implementation_code>/", views.item_guide, name="guide"),
]
