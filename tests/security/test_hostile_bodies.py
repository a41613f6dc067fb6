"""Hostile request bodies against a real gunicorn: a 4xx fast, with bounded memory, never a 500.

tests/ingestion/test_rejections.py shows each rejection's wording through Django's test client, and
tests/ingestion/test_properties.py fuzzes JSON and bytes there. Here the same kinds of body go over
a real socket to a real server process, and we measure what they cost it: the time to the answer and
the growth of the serving process's peak RSS (VmHWM in /proc).

Duplicate keys: the last value wins, as in Python's, Go's and JavaScript's JSON parsers, and so in
Segment's and RudderStack's servers; SDKs never send them, and the parsed message is what is stored
and forwarded, so no later reader can see the other value.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from delivery.ingestion.sizes import MAX_NESTING_DEPTH
from delivery.models import Delivery, Event
from destinations.models import Destination, Source
from tests.engine.conftest import FAST_WORKER
from tests.support import processes
from tests.support.fake_customerio import running_fake
from tests.support.processes import wait_until
from tests.support.services import free_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MB = 1024 * 1024
# A hostile body must be answered within this long, and grow the server's peak memory by less than
# this. The largest cost is a 4 MB body of tiny JSON values, which Python holds in about 30 times
# its size before the batch limit refuses it; past 4 MB nothing is read at all.
FAST_SECONDS = 2.0
MEMORY_BOUND_MB = 200


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[processes.ChildProcess]:
    """One gunicorn process (so its memory is the one we measure) on the test database."""
    port = free_port()
    log_dir = tmp_path_factory.mktemp("hostile")
    web = processes.web(log_dir, processes.process_env(), port, workers=1, threads=2)
    web.port = port
    with django_db_blocker.unblock():
        web.start(timeout=60)
    yield web
    web.stop()


@pytest.fixture
def post(server, db):
    source = Source.objects.create(name="hostile")
    destination = Destination.objects.create(name="cio", site_id="site", api_key="0" * 20)
    destination.sources.add(source)
    auth = "Basic " + base64.b64encode(f"{source.write_key}:".encode()).decode()

    def send(path: str, body: bytes, **headers: str) -> requests.Response:
        return requests.post(
            f"http://127.0.0.1:{server.port}{path}",
            data=body,
            headers={"Authorization": auth, "Content-Type": "application/json", **headers},
            timeout=60,
        )

    return send


def serving_pid(master_pid: int) -> int:
    (child,) = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return int(child)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def nested(depth: int) -> bytes:
    return b'{"userId":"u","event":"e","properties":{"x":' + b"[" * depth + b"]" * depth + b"}}"


def many_tiny_values() -> bytes:
    count = (4 * MB - 20) // 3
    return b'{"batch":[' + b"{}," * (count - 1) + b"{}]}"


GZIP = {"Content-Encoding": "gzip"}
HOSTILE = {
    "5 MB body": ("/v1/batch", lambda: b'{"batch":[' + b" " * (5 * MB) + b"]}", {}, 413),
    "4 MB of tiny values": ("/v1/batch", many_tiny_values, {}, 413),
    "100,000 levels of [": ("/v1/track", lambda: b"[" * 100_000, {}, 400),
    "100,000 levels of {": ("/v1/track", lambda: b'{"a":' * 100_000, {}, 400),
    "properties 5,000 deep": ("/v1/track", lambda: nested(5000), {}, 400),
    "Latin-1": ("/v1/track", lambda: '{"userId":"Zoë","event":"e"}'.encode("latin-1"), {}, 400),
    "UTF-16": ("/v1/track", lambda: '{"userId":"u","event":"e"}'.encode("utf-16"), {}, 400),
    "overlong UTF-8": ("/v1/track", lambda: b'{"userId":"\xc0\xaf","event":"e"}', {}, 400),
    "UTF-8 surrogate": ("/v1/track", lambda: b'{"userId":"\xed\xa0\x80","event":"e"}', {}, 400),
    # 1 GB of zeros in about 1 MB, and 400 MB of spaces as 400 gzip members one after another
    "gzip bomb": ("/v1/batch", lambda: gzip.compress(b"0" * (256 * MB), 9) * 4, GZIP, 413),
    "gzip bomb of many members": ("/v1/batch", lambda: gzip.compress(b" " * MB) * 400, GZIP, 413),
    "invalid UTF-8 inside gzip": (
        "/v1/track",
        lambda: gzip.compress(b'{"userId":"\xff","event":"e"}'),
        GZIP,
        400,
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_body_gets_a_4xx_fast_with_bounded_memory(server, post, case):
    # Given a warmed-up server and its peak memory so far
    path, make_body, headers, status = HOSTILE[case]
    body = make_body()
    post("/v1/track", json.dumps({"userId": "warm", "event": "up"}).encode())
    pid = serving_pid(server.process.pid)
    before = peak_rss_mb(pid)
    # When the hostile body is posted
    started = time.monotonic()
    response = post(path, body, **headers)
    took = time.monotonic() - started
    # Then it is refused with a clear 4xx, quickly, and the server's peak memory grew by a bounded amount
    assert response.status_code == status, response.text[:300]
    assert response.json()["error"]
    assert took < FAST_SECONDS, f"{case}: answered in {took:.2f} s"
    grown = peak_rss_mb(pid) - before
    print(f"\n{case}: {response.status_code} in {took:.3f} s, peak RSS +{grown:.1f} MB")
    assert grown < MEMORY_BOUND_MB
    assert Event.objects.exclude(user_id="warm").count() == 0


def test_duplicate_keys_take_the_last_value(post):
    # Given a body that names userId, event and a property twice
    body = b'{"userId":"first","userId":"last","event":"First","event":"Last","properties":{"a":1,"a":2}}'
    # When it is posted
    response = post("/v1/track", body)
    # Then it is stored once, with the last value of each, and nothing of the first values remains
    assert response.status_code == 200
    (event,) = Event.objects.all()
    assert (event.user_id, event.event_name, event.payload["properties"]) == ("last", "Last", {"a": 2})
    assert "first" not in json.dumps(event.payload).lower()


def deepest_accepted(post) -> int:
    """The deepest `properties` nesting the API stores (found by bisection; each probe is stored)."""
    low, high = 1, 5000
    while low < high:
        middle = (low + high + 1) // 2
        body = nested(middle).replace(b'"userId":"u"', f'"userId":"deep","messageId":"d{middle}"'.encode())
        if post("/v1/track", body).status_code == 200:
            low = middle
        else:
            high = middle - 1
    return low


def test_the_deepest_event_the_api_takes_is_delivered_and_holds_nobody_back(post, tmp_path):
    # Given events nested as deep as the API accepts, then a plain event of the same person and another's
    depth = deepest_accepted(post)
    for person in ("deep", "plain"):
        assert post("/v1/track", json.dumps({"userId": person, "event": "After"}).encode()).status_code == 200
    # When a worker delivers them
    with running_fake() as fake:
        worker = processes.worker(tmp_path, processes.process_env(fake.url, **FAST_WORKER)).start()
        try:
            wait_until(
                lambda: not Delivery.objects.filter(status__in=Delivery.OPEN).exists(),
                timeout=60,
                message=f"deliveries of events {depth} deep did not finish",
            )
        finally:
            worker.stop()
    # Then each ended in a terminal state with a reason when not delivered, and the later events went
    for status, reason in Delivery.objects.values_list("status", "reason"):
        assert status == "delivered" or reason, (depth, status)
    after = Delivery.objects.filter(event__event_name="After").values_list("status", flat=True)
    assert list(after) == ["delivered", "delivered"], depth


def test_an_event_deeper_than_the_limit_is_400_and_one_at_the_limit_is_taken(post):
    # The message is level 1 and properties level 2, so n nested arrays make an event n + 2 deep.
    at_limit = nested(MAX_NESTING_DEPTH - 2).replace(b'"userId":"u"', b'"userId":"u","messageId":"ok"')
    assert post("/v1/track", at_limit).status_code == 200
    response = post("/v1/track", nested(MAX_NESTING_DEPTH - 1))
    assert response.status_code == 400
    assert response.json()["error"] == f"body: the event is nested more than {MAX_NESTING_DEPTH} levels deep"
