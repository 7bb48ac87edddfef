from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "zwfw.organisations"
    label = "organisations"
    verbose_name = "组织机构 Organisations"
