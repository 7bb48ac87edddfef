from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "zwfw.workbench"
    label = "workbench"
    verbose_name = "工作台 Workbench"
