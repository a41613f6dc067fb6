from django.core.management.base import BaseCommand

from destinations.management.commands._output import add_json_flag, emit, usage_error
from destinations.provisioning import ProvisioningError, create_source


class Command(BaseCommand):
    help = "Create a source and print its id and write key (the SDKs' user name for HTTP Basic auth)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="a unique name, e.g. 'web app'")
        add_json_flag(parser)

    def handle(self, *args, name: str, as_json: bool, **options) -> None:
        try:
            source = create_source(name)
        except ProvisioningError as error:
            raise usage_error(str(error)) from None
        data = {"id": source.pk, "name": source.name, "write_key": source.write_key}
        emit(
            self,
            data,
            f"Created source {source.name!r}: id {source.pk}, write key {source.write_key}",
            as_json,
        )
