from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "krug.analytics"
    label = "analytics"
