import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from destinations.management.commands._output import add_json_flag, emit, usage_error
from destinations.provisioning import ProvisioningError, create_destination
from destinations.rudderstack_config import ConfigError, from_config


class Command(BaseCommand):
    help = (
        "Create a Customer.io destination from a RudderStack destination's Config JSON "
        "(the object with siteID, apiKey, datacenter, ...; a whole destination export holding "
        'it under "Config" works too). FILE may be - for stdin.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="path to the JSON file, or - to read stdin")
        parser.add_argument(
            "--name", help="destination name (default: the export's name, else the file name)"
        )
        parser.add_argument("--source", action="append", default=[], help="connect a source by name")
        add_json_flag(parser)

    def handle(self, *args, file: str, name: str | None, source: list[str], as_json: bool, **options) -> None:
        document = self._read(file)
        try:
            fields = from_config(document)
        except ConfigError as error:
            raise usage_error(f"{file}: {error}") from None
        fields["name"] = name or self._default_name(document, file)
        try:
            destination = create_destination(fields, source)
        except ProvisioningError as error:
            raise usage_error(str(error)) from None
        data = {"id": destination.pk, "name": destination.name}
        emit(self, data, f"Imported destination {destination.name!r}: id {destination.pk}", as_json)

    def _read(self, file: str) -> object:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text()
        except OSError as error:
            raise usage_error(f"cannot read {file}: {error.strerror}") from None
        try:
            return json.loads(text)
        except ValueError as error:
            raise usage_error(f"{file} is not JSON: {error}") from None

    @staticmethod
    def _default_name(document: object, file: str) -> str:
        if isinstance(document, dict) and isinstance(document.get("name"), str) and document["name"].strip():
            return document["name"].strip()
        return "Customer.io" if file == "-" else Path(file).stem
