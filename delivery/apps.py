from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery log"

    def ready(self) -> None:
        from delivery.admin import log  # noqa: F401  (registers the delivery log's ModelAdmin)
