from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "krug.sales"
    label = "sales"
