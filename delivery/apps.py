from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery log"

    def ready(self) -> None:
        from delivery.admin import log, message_activity  # noqa: F401  (register their ModelAdmins)
