from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "krug.activities"
    label = "activities"

    def ready(self) -> None:
        from krug.activities.models import Call, Meeting, Note, Task
        from krug.activities.services import restore_activity
        from krug.core import registry

        for slug, model in (("tasks", Task), ("calls", Call), ("meetings", Meeting), ("notes", Note)):
            registry.register(slug, model, restore=restore_activity)
