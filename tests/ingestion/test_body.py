"""Reading bodies: gzip members, bounded whatever an unauthenticated sender crafts."""

from __future__ import annotations

import gzip
import json

import pytest

from delivery.ingestion.body import MAX_GZIP_MEMBERS, gunzip
from delivery.ingestion.refusals import IngestError, PayloadTooLarge
from delivery.models import Event
from tests.ingestion.conftest import track


def members(count: int, payload: bytes = b"") -> bytes:
    return b"".join(gzip.compress(payload) for _ in range(count))


def test_a_body_of_several_members_is_their_concatenation():
    body = json.dumps(track()).encode()
    half = len(body) // 2
    assert gunzip(gzip.compress(body[:half]) + gzip.compress(body[half:]), 10_000) == body


def test_more_members_than_any_sdk_sends_are_refused_by_name():
    assert gunzip(members(MAX_GZIP_MEMBERS, b"x"), 100) == b"x" * MAX_GZIP_MEMBERS
    with pytest.raises(IngestError, match=f"more than {MAX_GZIP_MEMBERS} members"):
        gunzip(members(MAX_GZIP_MEMBERS + 1, b"x"), 100)


def test_a_flood_of_tiny_members_is_refused_after_a_few():
    # 4 MB of empty members: each would cost a decompressor and a copy of everything after it
    flood = members(4 * 1024 * 1024 // len(gzip.compress(b"")))
    with pytest.raises(IngestError, match="members"):
        gunzip(flood, 4 * 1024 * 1024)


def test_a_bomb_stops_at_the_limit():
    with pytest.raises(PayloadTooLarge):
        gunzip(gzip.compress(b"0" * 10_000_000), 1_000_000)


@pytest.mark.django_db
def test_the_api_answers_400_for_a_member_flood_and_stores_nothing(sender):
    response = sender.client.post(
        "/v1/batch",
        data=members(1000, b" "),
        content_type="application/json",
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert response.status_code == 400
    assert "members" in response.json()["error"]
    assert not Event.objects.exists()
