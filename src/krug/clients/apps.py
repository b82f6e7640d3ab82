from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "krug.clients"
    label = "clients"

    def ready(self) -> None:
        from krug.clients.models import Company, Contact, Lead
        from krug.core import registry

        registry.register("companies", Company)
        registry.register("contacts", Contact)
        registry.register("leads", Lead)
