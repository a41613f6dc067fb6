from django.core.management.base import BaseCommand

from destinations.management.commands._output import add_json_flag, emit, usage_error
from destinations.provisioning import ProvisioningError, create_warehouse_source
from destinations.warehouse.connection import describe
from destinations.warehouse.models import WarehouseSource


class Command(BaseCommand):
    help = (
        "Create a warehouse source: a SQL query whose rows become Customer.io people, events or objects, "
        "synced every --every minutes (Celery beat) or with `manage.py sync_warehouse NAME`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="a unique name, e.g. 'crm people'")
        parser.add_argument("--url", help="connection URL, e.g. postgresql://user:password@host/db")
        parser.add_argument("--query", help="the SQL query whose rows to sync")
        parser.add_argument("--identifier-column", help="the column that says who a row is (objects: its id)")
        parser.add_argument("--identifier", default="id", choices=WarehouseSource.Identifier.values)
        parser.add_argument("--object", dest="kind", default="person", choices=WarehouseSource.Kind.values)
        parser.add_argument("--event-name", default="", help="events: a fixed event name")
        parser.add_argument("--event-name-column", default="", help="events: the column holding the name")
        parser.add_argument("--timestamp-column", default="", help="events: the column holding the time")
        parser.add_argument("--object-type-id", default="", help="objects: Customer.io's object type id")
        parser.add_argument("--relationships-column", default="", help="objects: the related people's column")
        parser.add_argument("--mode", default="upsert", choices=WarehouseSource.Mode.values)
        parser.add_argument("--every", type=int, default=60, help="minutes between runs (default 60)")
        parser.add_argument("--destination", action="append", default=[], help="a destination it feeds")
        add_json_flag(parser)

    def handle(self, *args, **options) -> None:
        for flag in ("url", "query", "identifier_column"):
            if not options[flag]:
                raise usage_error(f"--{flag.replace('_', '-')} is required")
        fields = {
            "name": options["name"].strip(),
            "connection_url": options["url"],
            "query": options["query"],
            "identifier_column": options["identifier_column"],
            "identifier": options["identifier"],
            "kind": options["kind"],
            "event_name": options["event_name"],
            "event_name_column": options["event_name_column"],
            "timestamp_column": options["timestamp_column"],
            "object_type_id": options["object_type_id"],
            "relationships_column": options["relationships_column"],
            "mode": options["mode"],
            "every_minutes": options["every"],
        }
        try:
            warehouse = create_warehouse_source(fields, options["destination"])
        except ProvisioningError as error:
            raise usage_error(str(error)) from None
        destinations = sorted(warehouse.source.destinations.values_list("name", flat=True))
        data = {
            "id": warehouse.pk,
            "name": warehouse.name,
            "database": describe(warehouse.connection_url),
            "destinations": destinations,
        }
        text = (
            f"Created warehouse source {warehouse.name!r}: id {warehouse.pk}, reading "
            f"{data['database']}, every {warehouse.every_minutes} min, feeding {', '.join(destinations)}"
        )
        emit(self, data, text, options["as_json"])
