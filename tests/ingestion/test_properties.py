"""Property-based tests: whatever JSON arrives, the answer is a clear 4xx or a stored event, never a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery.ingestion.enrich import Arrival
from delivery.ingestion.refusals import IngestError
from delivery.ingestion.validation import MESSAGE_TYPES, SINGLE_ROUTE_TYPES
from delivery.ingestion.views import prepare
from delivery.models import Event

FIELDS = [
    "type", "userId", "anonymousId", "event", "name", "groupId", "previousId", "messageId", "traits",
    "properties", "context", "integrations", "timestamp", "originalTimestamp", "sentAt", "channel",
    "writeKey", "action", "identifiers", "fields", "object", "relationships",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from([*MESSAGE_TYPES, "2026-01-01T00:00:00Z", "", " ", "\u0000", "All", "insert", "event"])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
messages = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), json_values, max_size=10)
ARRIVAL = Arrival(datetime(2026, 1, 1, tzinfo=UTC), "192.0.2.1", historical=False)
HTTP_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@given(message=messages, kind=st.sampled_from([None, *MESSAGE_TYPES]))
@settings(max_examples=500, deadline=None)
def test_a_message_is_either_refused_with_a_message_or_filled_in_and_storable(message, kind):
    try:
        filled = prepare(message, "batch[0]", kind, ARRIVAL)
    except IngestError as error:
        assert error.status in (400, 413)
        assert error.message.startswith("batch[0]")
        return
    assert filled["type"] in MESSAGE_TYPES
    assert filled["messageId"] and filled["receivedAt"] == "2026-01-01T00:00:00.000Z"
    assert "writeKey" not in filled
    json.dumps(filled, allow_nan=False).encode("utf-8")


@pytest.mark.django_db
@given(
    body=json_values | messages,
    path=st.sampled_from([f"/v1/{kind}" for kind in (*SINGLE_ROUTE_TYPES, "batch")]),
)
@HTTP_SETTINGS
def test_any_json_body_gets_a_clear_answer(sender, body, path):
    response = sender.post(path, body)
    assert response.status_code in (200, 400, 413), response.content
    if response.status_code != 200:
        assert response.json()["error"]


@pytest.mark.django_db
@given(batch=st.lists(messages, min_size=1, max_size=5))
@HTTP_SETTINGS
def test_any_batch_is_stored_whole_or_not_at_all(sender, batch):
    before = Event.objects.count()
    response = sender.post("/v1/batch", {"batch": batch})
    assert response.status_code in (200, 400, 413), response.content
    stored = Event.objects.count() - before
    if response.status_code == 200:
        assert 0 <= stored <= len(batch)
    else:
        assert stored == 0


@pytest.mark.django_db
@given(body=st.binary(max_size=200), gzipped=st.booleans())
@HTTP_SETTINGS
def test_any_bytes_get_a_clear_answer(sender, body, gzipped):
    response = sender.post("/v1/batch", body, gzipped=gzipped)
    assert response.status_code in (200, 400, 413), response.content
