"""Nobody gets in without a valid write key, on any ingestion endpoint, and keys are compared in
constant time.

tests/ingestion/test_rejections.py shows the answer's wording for one endpoint (/v1/track); here every
endpoint (each type, /v1/batch, /v1/import and /v1/import/<type>, analytics.js's short routes and
RudderStack's beacon) refuses every way of not holding a
valid key, and stores nothing.
"""

from __future__ import annotations

import base64
import hmac
import json

import pytest
from django.urls import get_resolver, reverse

from delivery.ingestion import refused_requests, sources
from delivery.models import Delivery, Event, RefusedRequest
from destinations import crypto
from destinations.models import Destination, Source

pytestmark = pytest.mark.django_db


def ingestion_paths() -> list[str]:
    """Every POST route of the ingestion API, read from the URL configuration itself."""
    names = [
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and name.startswith("ingest-") and name != "ingest-schema"
    ]
    return sorted(reverse(name) for name in names)


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def body_for(path: str) -> dict:
    message = {"userId": "u", "event": "e", "groupId": "g", "previousId": "p", "name": "n"}
    if path.endswith(("/batch", "/import", "/b")):
        return {"batch": [{"type": "track", **message}]}
    return message


@pytest.fixture
def keys(db) -> dict[str, str]:
    sources.forget_all()
    live = Source.objects.create(name="live")
    disabled = Source.objects.create(name="disabled", enabled=False)
    destination = Destination.objects.create(name="cio", site_id="site", api_key="0" * 20)
    destination.sources.add(live, disabled)
    return {"live": live.write_key, "disabled": disabled.write_key}


def refusals(keys: dict[str, str]) -> dict[str, tuple[str | None, int]]:
    """Authorization header -> the status it must get. None: no header at all."""
    live = keys["live"]
    return {
        "no key": (None, 401),
        "empty Basic user name": (basic(""), 401),
        "wrong key": (basic(live[:-1] + ("A" if live[-1] != "A" else "B")), 401),
        "key with a suffix": (basic(live + "x"), 401),
        "key of a disabled source": (basic(keys["disabled"]), 404),
        "key in the password field": (basic("", live), 401),
        "Basic without credentials": ("Basic", 401),
        "Basic with text that is not base64": ("Basic %%%", 401),
        "Basic with base64 that is not UTF-8": ("Basic " + base64.b64encode(b"\xff\xfe:").decode(), 401),
        "Bearer with a wrong key": ("Bearer nope", 401),
        "empty Bearer": ("Bearer ", 401),
        "unknown scheme with the key": (f"Token {live}", 401),
    }


def test_the_routes_walked_are_every_ingestion_endpoint():
    # The walk below must not silently miss a route: 6 types and batch, under /v1/ and /v1/import/,
    # /v1/import itself, the 7 short routes (/v1/t ... /v1/b) and the beacon.
    assert len(ingestion_paths()) == 23
    assert "/v1/import" in ingestion_paths() and "/v1/import/track" in ingestion_paths()
    assert "/v1/t" in ingestion_paths() and "/beacon/v1/batch" in ingestion_paths()


@pytest.mark.parametrize("path", ingestion_paths())
def test_every_endpoint_refuses_every_request_without_a_valid_key(client, keys, path, monkeypatch):
    # Given a live source and a disabled one, both connected to a destination (and every refusal
    # kept as an example)
    monkeypatch.setattr(refused_requests, "EXAMPLES_PER_SECOND", 1_000)
    for case, (authorization, status) in refusals(keys).items():
        headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
        # When a valid event is posted without a valid key
        response = client.post(path, body_for(path), content_type="application/json", **headers)
        # Then it is refused with the status for that case, and nothing is stored
        assert response.status_code == status, (case, response.content)
        assert response.json()["code"] in ("invalid_write_key", "source_disabled"), case
    assert Event.objects.count() == Delivery.objects.count() == 0
    # And what is kept of each refusal holds no key
    kept = json.dumps(list(RefusedRequest.objects.values()), default=str)
    assert RefusedRequest.objects.count() == len(refusals(keys))
    assert keys["live"] not in kept and keys["disabled"] not in kept
    # And the same request with the live key is taken (so the refusals were about the key)
    accepted = client.post(
        path, body_for(path), content_type="application/json", HTTP_AUTHORIZATION=basic(keys["live"])
    )
    assert accepted.status_code == 200, accepted.content


@pytest.mark.parametrize("path", ["/v1/track", "/v1/batch"])
def test_a_wrong_key_in_the_body_is_refused_too(client, keys, path):
    body = {**body_for(path), "writeKey": keys["live"][:-2]}
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == 401
    assert Event.objects.count() == 0


def test_the_key_decides_even_when_its_digest_matches(client, keys, monkeypatch):
    # Given every key hashing to the live source's digest (a digest collision, as an attacker would want)
    live_digest = crypto.digest(keys["live"])
    monkeypatch.setattr(crypto, "digest", lambda value: live_digest)
    # When a wrong key is presented, the digest finds the live source's row
    response = client.post(
        "/v1/track", body_for("/v1/track"), content_type="application/json", HTTP_AUTHORIZATION=basic("wrong")
    )
    # Then the full key comparison still refuses it
    assert response.status_code == 401


def test_the_key_is_compared_with_hmac_compare_digest(client, keys, monkeypatch):
    # Given a spy on the comparison the lookup uses
    compared: list[tuple[bytes, bytes]] = []
    constant_time = hmac.compare_digest

    def spy(stored: bytes, presented: bytes) -> bool:
        compared.append((stored, presented))
        return constant_time(stored, presented)

    monkeypatch.setattr(sources.hmac, "compare_digest", spy)
    # When the live key is presented
    response = client.post(
        "/v1/track",
        body_for("/v1/track"),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic(keys["live"]),
    )
    # Then it was accepted by a constant-time comparison of the stored key with the presented one
    assert response.status_code == 200
    assert compared == [(keys["live"].encode(), keys["live"].encode())]
