from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "krug.activities"
    label = "activities"
