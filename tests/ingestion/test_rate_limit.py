"""INGESTION_RATE_LIMIT_PER_SECOND: 429 with Retry-After past the limit, per write key."""

from __future__ import annotations

import pytest

from delivery.ingestion import throttle
from destinations.models import Source
from tests.ingestion.conftest import Sender, track

pytestmark = pytest.mark.django_db


def statuses(sender: Sender, count: int, prefix: str) -> list:
    return [sender.post("/v1/track", track(messageId=f"{prefix}-{index}")) for index in range(count)]


def test_there_is_no_limit_by_default(sender):
    assert {response.status_code for response in statuses(sender, 30, "free")} == {200}


def test_requests_over_the_limit_are_429_with_retry_after(sender, settings):
    # Given a limit of 3 requests per second
    settings.INGESTION_RATE_LIMIT_PER_SECOND = 3
    # When 10 requests arrive at once (at most two one-second windows)
    responses = statuses(sender, 10, "burst")
    # Then no more than 3 a window are accepted, and the rest are told when to retry
    codes = [response.status_code for response in responses]
    assert codes.count(200) <= 6 and set(codes) == {200, 429}
    refused = next(response for response in responses if response.status_code == 429)
    assert refused["Retry-After"] == "1"
    assert refused.json()["error"] == "too many requests for this write key; retry later"
    assert refused["Connection"] == "close"  # the retry comes on a new connection


def test_each_write_key_has_its_own_limit(client, sender, settings):
    settings.INGESTION_RATE_LIMIT_PER_SECOND = 2
    statuses(sender, 6, "first")
    other = Sender(client, Source.objects.create(name="Other").write_key)
    assert other.post("/v1/track", track(messageId="other")).status_code == 200


@pytest.mark.services
def test_with_redis_every_server_process_shares_the_count(sender, settings):
    # Given a limit of 2 per second and requests each served as if by a new process (nothing counted locally)
    settings.INGESTION_RATE_LIMIT_PER_SECOND = 2
    codes = []
    for index in range(8):
        throttle._local_counts.clear()
        codes.append(sender.post("/v1/track", track(messageId=f"shared-{index}")).status_code)
    # Then the count kept in Redis still refuses the excess
    assert 429 in codes
    assert codes.count(200) <= 4
