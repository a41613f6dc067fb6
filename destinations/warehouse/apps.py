from django.apps import AppConfig


class WarehouseConfig(AppConfig):
    name = "destinations.warehouse"
    label = "warehouse"
    verbose_name = "Warehouse sources"
