from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "krug.transfer"
    label = "transfer"
    verbose_name = "Import and export"
    default_auto_field = "django.db.models.BigAutoField"
