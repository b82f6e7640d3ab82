from django.apps import AppConfig


class AdministrationConfig(AppConfig):
    """The administrator's screens: users and teams, pipelines, custom fields, the recycle bin."""

    name = "krug.administration"
    label = "administration"
