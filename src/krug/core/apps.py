from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "krug.core"
    label = "core"
