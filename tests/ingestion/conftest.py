"""Fixtures for the ingestion API tests: a source with a connected Customer.io destination, a client
that sends with its write key, and a recorder in place of the doorbell."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import pytest
from django.test import Client

from delivery.ingestion import sdk_settings, sources, throttle
from destinations.models import Destination, Source
from tests.support.factories import make_destination, make_source


def basic_auth(write_key: str) -> str:
    return "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()


class Sender:
    """Posts bodies the way an SDK does, with a source's write key."""

    def __init__(self, client: Client, write_key: str, on_commit: Callable | None = None) -> None:
        self.client = client
        self.write_key = write_key
        # In a test wrapped in a transaction, on_commit callbacks run only when captured.
        self.on_commit = on_commit or (lambda **kwargs: nullcontext())

    def post(self, path: str, body: Any, *, gzipped: bool = False, auth: str | None = None, **headers: str):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if gzipped:
            data = gzip.compress(data)
            headers["HTTP_CONTENT_ENCODING"] = "gzip"
        authorization = basic_auth(self.write_key) if auth is None else auth
        if authorization:
            headers["HTTP_AUTHORIZATION"] = authorization
        with self.on_commit(execute=True):
            return self.client.post(path, data=data, content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def fresh_caches():
    sources.forget_all()
    sdk_settings.forget_all()
    throttle._local_counts.clear()
    yield
    sources.forget_all()
    sdk_settings.forget_all()


@pytest.fixture(autouse=True)
def no_celery_messages(rings) -> None:
    """Ingestion tests record the doorbell's rings (the `rings` fixture) instead of sending them."""


@pytest.fixture
def source(db) -> Source:
    return make_source("Web app")


@pytest.fixture
def destination(source) -> Destination:
    return make_destination(source, name="Customer.io production")


@pytest.fixture
def sender(client, source, destination, django_capture_on_commit_callbacks) -> Sender:
    return Sender(client, source.write_key, django_capture_on_commit_callbacks)


def track(**fields: Any) -> dict[str, Any]:
    return {"userId": "user-1", "event": "Order Completed", "properties": {"total": 42}, **fields}
