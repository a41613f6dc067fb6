from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"
    verbose_name = "Delivery log"

    def ready(self) -> None:
        from django.contrib import admin

        from delivery.admin import log, message_activity, source_activity  # noqa: F401  (register their ModelAdmins)

        source_activity.register(admin.site)
