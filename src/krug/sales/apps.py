from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "krug.sales"
    label = "sales"

    def ready(self) -> None:
        from krug.core import registry
        from krug.sales.models import Deal, Pipeline, Product, Stage
        from krug.sales.services import restore_deal

        registry.register("deals", Deal, restore=restore_deal)
        registry.register("pipelines", Pipeline)
        registry.register("stages", Stage)
        registry.register("products", Product)
