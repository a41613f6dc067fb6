"""The real client libraries, pointed at a live gunicorn server, store every call type correctly.

rudder-sdk-python (rudderstack.analytics), segment-analytics-python (segment.analytics) and
customerio-cdp-analytics (customerio.analytics) install side by side: their top-level packages differ.
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection

from delivery.models import Delivery, Event
from tests.ingestion.server import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

LIBRARIES = ["rudderstack", "segment", "customerio"]


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """gunicorn on the test database, and its access log."""
    access_log = tmp_path_factory.mktemp("gunicorn") / "access.log"
    with gunicorn(connection.settings_dict, access_log) as url:
        yield url, access_log


@pytest.fixture
def live_url(server) -> str:
    return server[0]


@pytest.fixture
def wire(server) -> Callable[[], list[dict]]:
    """What reached the server during the test: path, Content-Encoding and status of each request."""
    access_log = server[1]
    start = access_log.stat().st_size if access_log.exists() else 0

    def requests() -> list[dict]:
        # gunicorn writes the access line after the response is sent.
        time.sleep(0.2)
        with access_log.open() as log:
            log.seek(start)
            lines = [line.strip().split("|") for line in log if line.strip()]
        return [
            {"path": path, "encoding": "" if enc == "-" else enc, "status": int(code)}
            for path, enc, code in lines
        ]

    return requests


def sdk_client(library: str, write_key: str, host: str, *, gzip: bool, errors: list):
    module = importlib.import_module(f"{library}.analytics")
    return module.Client(
        write_key,
        host=host,
        gzip=gzip,
        max_retries=2,
        upload_interval=0.05,
        on_error=lambda error, batch: errors.append(error),
    )


def send_every_call_type(client) -> None:
    client.identify("user-1", {"email": "ada@example.com", "plan": "pro"})
    client.track("user-1", "Order Completed", {"total": 42.5, "currency": "EUR"})
    client.page("user-1", "Docs", "Pricing", {"path": "/pricing"})
    client.screen("user-1", "App", "Settings", {"dark": True})
    client.group("user-1", "acme", {"employees": 40})
    client.alias("anon-1", "user-1")
    client.flush()


@pytest.mark.parametrize("gzip", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("library", LIBRARIES)
def test_every_call_type_of_the_sdk_arrives_stored_and_correct(
    library, gzip, live_url, source, destination, wire
):
    # Given the SDK pointed at this server by its host
    errors: list = []
    client = sdk_client(library, source.write_key, live_url, gzip=gzip, errors=errors)
    # When it sends one call of each type and flushes
    send_every_call_type(client)
    client.join()
    # Then it saw no error, and sent batches to /v1/batch, gzipped when asked to
    assert errors == []
    assert {(request["path"], request["encoding"], request["status"]) for request in wire()} == {
        ("/v1/batch", "gzip" if gzip else "", 200)
    }
    # And every event is stored with what the call said, in order, each with a pending delivery
    events = {event.type: event for event in Event.objects.order_by("id")}
    assert list(events) == ["identify", "track", "page", "screen", "group", "alias"]
    assert_stored_as_called(events)
    assert Delivery.objects.filter(status="pending", destination=destination).count() == 6


def assert_stored_as_called(events: dict) -> None:
    assert events["identify"].email == "ada@example.com"
    assert events["track"].event_name == "Order Completed"
    assert events["track"].payload["properties"] == {"total": 42.5, "currency": "EUR"}
    assert (events["page"].event_name, events["page"].payload["category"]) == ("Pricing", "Docs")
    assert events["screen"].payload["properties"] == {"dark": True}
    assert events["group"].payload["groupId"] == "acme"
    assert (events["alias"].payload["previousId"], events["alias"].user_id) == ("anon-1", "user-1")
    for event in events.values():
        payload = event.payload
        assert payload["context"]["library"]["name"] == "analytics-python"
        assert payload["context"]["ip"] == "127.0.0.1"
        assert event.user_id == "user-1"
        # The SDK's timestamp, corrected with the batch's sentAt, lands within the test's duration
        received = datetime.fromisoformat(payload["receivedAt"])
        assert received - timedelta(seconds=30) < datetime.fromisoformat(payload["timestamp"]) <= received
        assert payload["messageId"] == event.message_id


@pytest.mark.parametrize("library", LIBRARIES)
def test_the_sdk_gives_up_at_once_on_an_unknown_write_key(library, live_url, source, wire):
    # Given the SDK with a key this server does not know
    errors: list = []
    client = sdk_client(library, "not-a-write-key", live_url, gzip=False, errors=errors)
    # When it sends
    client.track("user-1", "Signed Up")
    client.flush()
    client.join()
    # Then it read our error body as a permanent 401 and did not retry
    assert len(wire()) == 1
    [error] = errors
    assert (error.status, error.code, error.message) == (401, "invalid_write_key", "invalid write key")
    assert Event.objects.count() == 0


def test_an_oversized_event_from_the_rudderstack_sdk_is_a_413_it_does_not_retry(live_url, source, wire):
    # Given RudderStack's SDK, which itself allows events up to 4 MB
    errors: list = []
    client = sdk_client("rudderstack", source.write_key, live_url, gzip=True, errors=errors)
    # When it sends a 40 KB event
    client.track("user-1", "Big", {"blob": "x" * 40_000})
    client.flush()
    client.join()
    # Then it received the limit that was hit, once
    assert len(wire()) == 1
    [error] = errors
    assert error.status == 413
    assert error.message.startswith("batch[0]: the event is ") and "32 KB limit" in error.message
    assert json.dumps(error.message)
    assert Event.objects.count() == 0


def test_a_chunked_body_without_a_content_length_is_read(live_url, source):
    # Given a client that streams its body in chunks and sends no Content-Length
    body = json.dumps({"batch": [{"type": "track", "userId": "u1", "event": "Chunked"}]}).encode()

    def chunks():
        yield body[:10]
        yield body[10:]

    # When it posts to the API
    response = requests.post(
        f"{live_url}/v1/batch", data=chunks(), auth=(source.write_key, ""), timeout=30,
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    # Then the body is read whole and stored, as with a Content-Length
    assert response.status_code == 200, response.text
    assert Event.objects.get().event_name == "Chunked"


def test_a_chunked_body_over_the_limit_is_a_413(live_url, source):
    def chunks():
        for _ in range(5):
            yield b" " * (1024 * 1024)

    response = requests.post(f"{live_url}/v1/batch", data=chunks(), auth=(source.write_key, ""), timeout=30)
    assert response.status_code == 413
    assert not Event.objects.exists()
