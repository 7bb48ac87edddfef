from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "zwfw.catalog"
    label = "catalog"
    verbose_name = "事项管理 Service-item catalogue"
