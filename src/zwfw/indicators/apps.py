from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "zwfw.indicators"
    label = "indicators"
    verbose_name = "评估指标 Indicators"
