from django.apps import AppConfig


class RatingsConfig(AppConfig):
    name = "zwfw.ratings"
    label = "ratings"
    verbose_name = "好差评 Ratings"
