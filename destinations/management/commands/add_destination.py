from django.conf import settings
from django.core.management.base import BaseCommand

from destinations.management.commands._output import add_json_flag, emit, usage_error
from destinations.provisioning import ProvisioningError, create_destination
from destinations.rudderstack_config import API_VERSIONS, DATA_CENTERS

EVENT_FILTERS = {"allow": "whitelistedEvents", "deny": "blacklistedEvents"}


class Command(BaseCommand):
    help = "Create a Customer.io destination, optionally connected to sources, and print its id."

    def add_arguments(self, parser) -> None:
        # Required values are checked in handle(), so a missing one is one clear line, not a usage dump.
        parser.add_argument("--name", help="a unique name for the destination")
        parser.add_argument("--site-id", help="Customer.io Site ID")
        parser.add_argument("--api-key", help="Customer.io Tracking API key")
        parser.add_argument("--data-center", default="US", help="US (default) or EU")
        parser.add_argument("--source", action="append", default=[], help="connect a source by name")
        parser.add_argument(
            "--device-token-event", default="", help="event sent after setting a device token"
        )
        parser.add_argument(
            "--onetrust-category", action="append", default=[], help="OneTrust cookie category"
        )
        parser.add_argument("--ketch-purpose", action="append", default=[], help="Ketch consent purpose")
        parser.add_argument("--event-filter", help="allow or deny: only --event names, or all but them")
        parser.add_argument("--event", action="append", default=[], help="an event name for --event-filter")
        parser.add_argument("--api-version", default="v1", help="v1 (one request per event) or v2 (batched)")
        parser.add_argument(
            "--webhook-signing-key",
            default="",
            help="the signing key of the Customer.io reporting webhook that posts to this destination",
        )
        add_json_flag(parser)

    def handle(self, *args, **options) -> None:
        fields = self._fields(options)
        try:
            destination = create_destination(fields, options["source"])
        except ProvisioningError as error:
            raise usage_error(str(error)) from None
        sources = [source.name for source in destination.sources.all()]
        webhook_url = settings.PUBLIC_URL.rstrip("/") + destination.webhook_path()
        data = {
            "id": destination.pk,
            "name": destination.name,
            "sources": sources,
            "webhook_url": webhook_url,
        }
        text = (
            f"Created destination {destination.name!r}: id {destination.pk}\n"
            f"Reporting webhook address (Customer.io's Webhook Endpoint): {webhook_url}"
        )
        if not settings.PUBLIC_URL:
            text += "\n(set PUBLIC_URL to this server's address to print the full URL)"
        emit(self, data, text, options["as_json"])

    def _fields(self, options: dict) -> dict:
        for flag in ("name", "site_id", "api_key"):
            if not options[flag]:
                raise usage_error(f"--{flag.replace('_', '-')} is required")
        data_center = options["data_center"].upper()
        if data_center not in DATA_CENTERS:
            raise usage_error(f"--data-center must be US or EU, got {options['data_center']!r}")
        if options["api_version"] not in API_VERSIONS:
            raise usage_error(f"--api-version must be v1 or v2, got {options['api_version']!r}")
        return {
            "name": options["name"],
            "site_id": options["site_id"],
            "api_key": options["api_key"],
            "data_center": data_center,
            "device_token_event_name": options["device_token_event"],
            "onetrust_cookie_categories": options["onetrust_category"],
            "ketch_consent_purposes": options["ketch_purpose"],
            "api_version": options["api_version"],
            "webhook_signing_key": options["webhook_signing_key"].strip(),
            **self._event_filter(options["event_filter"], options["event"]),
        }

    def _event_filter(self, mode: str | None, events: list[str]) -> dict:
        if mode is None:
            if events:
                raise usage_error("--event needs --event-filter allow or deny")
            return {}
        if mode not in EVENT_FILTERS:
            raise usage_error(f"--event-filter must be allow or deny, got {mode!r}")
        names_field = "allowlisted_events" if mode == "allow" else "denylisted_events"
        return {"event_filtering": EVENT_FILTERS[mode], names_field: events}
