"""Ask Customer.io whether a destination's Site ID and API key work, and in which region they live.

Reference: https://docs.customer.io/integrations/api/track/#tag/trackRegion (GET /api/v1/accounts/region).
It answers either regional host with {"url": ..., "region": "us"|"eu", "environment_id": ...} for
good credentials and 401 for bad ones, so it checks both without sending any data.

What Customer.io answered about the credentials is recorded on the destination by the same rule as a
delivery's answer (answers.credentials_health): a 401/403 marks them rejected, a 200 clears that, so
after a check the list, the dashboards and the message all say the same. Nothing waits on that mark:
a delivery that met a 401/403 has failed (it can be replayed), and new deliveries are sent as usual.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import Enum

from destinations.customerio.config import TransformConfig
from destinations.customerio.endpoints import HOSTS, Endpoint
from destinations.customerio.errors import ConfigurationError
from destinations.customerio.outgoing import OutgoingRequest
from destinations.models import Destination
from destinations.track_api import transport
from destinations.track_api.answers import Outcome, classify, credentials_health

logger = logging.getLogger(__name__)

REGION = Endpoint("GET", "/api/v1/accounts/region")


class Verdict(Enum):
    WORKS = "works"
    WRONG_REGION = "wrong region"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    UNEXPECTED = "unexpected"


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict
    message: str

    @property
    def ok(self) -> bool:
        return self.verdict == Verdict.WORKS


def check_credentials(destination: Destination) -> CheckResult:
    """Call Customer.io with the destination's saved credentials; never raises for what it answers."""
    name = destination.name
    if not destination.site_id or not destination.api_key:
        return CheckResult(Verdict.REJECTED, f"“{name}” has no Site ID or API key to test: set both first.")
    try:
        config = TransformConfig(
            site_id=destination.site_id, api_key=destination.api_key, data_center=destination.data_center
        )
    except ConfigurationError as error:
        return CheckResult(Verdict.UNEXPECTED, f"“{name}” cannot be tested: {error}.")
    request = OutgoingRequest(REGION.method, HOSTS[config.data_center] + REGION.path, config.headers(), None)
    result = transport.send(request)
    # What the answer means is decided where every Customer.io answer is classified.
    answer = classify(result)
    _record_credentials(destination, credentials_health(answer, result.started_at))
    if answer.credentials_rejected:
        return CheckResult(
            Verdict.REJECTED,
            f"Customer.io rejected the credentials of “{name}” (HTTP {result.status}): the Site ID or API "
            "key is wrong. Copy both again from Customer.io: Settings > Workspace Settings > API and "
            "Webhook Credentials.",
        )
    if answer.outcome == Outcome.RETRY:
        logger.warning("credentials check of destination %s: %s", destination.pk, answer.reason)
        if result.status:
            return _unreachable(name, f"answered HTTP {result.status}")
        return _unreachable(name, "timed out" if result.error_kind == "timeout" else "could not connect")
    if answer.outcome == Outcome.FAILED:
        return CheckResult(
            Verdict.UNEXPECTED,
            f"Customer.io answered HTTP {result.status} to the credentials check of “{name}”, which it "
            "should not; the credentials could not be checked.",
        )
    return _region_verdict(destination, _answered_region(result.response_body))


def _record_credentials(destination: Destination, fields: dict) -> None:
    if fields:
        Destination.objects.filter(pk=destination.pk).update(**fields)
        for name, value in fields.items():
            setattr(destination, name, value)


def _unreachable(name: str, what: str) -> CheckResult:
    return CheckResult(
        Verdict.UNREACHABLE,
        f"Could not reach Customer.io to check “{name}” ({what}); the credentials were not checked. "
        "Try again in a moment.",
    )


def _answered_region(body: str) -> str | None:
    """ "US" or "EU" from the answer; the docs name the field `region`, some answers `data_center`."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    region = answer.get("region") or answer.get("data_center")
    if isinstance(region, str) and region.upper() in HOSTS:
        return region.upper()
    url = answer.get("url")
    if isinstance(url, str) and url:
        return "EU" if "track-eu." in url else "US"
    return None


def _region_verdict(destination: Destination, region: str | None) -> CheckResult:
    name, configured = destination.name, destination.data_center
    if region is None or region == configured:
        where = f" ({region} data center)" if region else ""
        return CheckResult(Verdict.WORKS, f"The credentials of “{name}” work{where}.")
    return CheckResult(
        Verdict.WRONG_REGION,
        f"The credentials of “{name}” work, but Customer.io says the workspace is in the {region} data "
        f"center while this destination is set to {configured}: events would not reach it. "
        f"Set Data center to {region}.",
    )
