from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "krug.web"
    label = "web"
