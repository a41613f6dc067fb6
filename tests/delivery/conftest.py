"""Factories and fixtures for the delivery engine's tests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from delivery.models import Delivery
from destinations.models import Destination, Source
from tests.support import processes
from tests.support.factories import store_event
from tests.support.fake_customerio import FakeCustomerIO

API_KEY = "test-api-key-0123456789"
SITE_ID = "test-site-id"
_names = itertools.count(1)

# Worker settings that make retries, sweeps and stale claims happen within a test's patience.
FAST_WORKER = {
    "DELIVERY_RETRY_BASE_SECONDS": 0.3,
    "DELIVERY_RETRY_MAX_SECONDS": 2,
    "DELIVERY_SWEEP_INTERVAL_SECONDS": 0.5,
    "DELIVERY_CLAIM_TIMEOUT_SECONDS": 4,
    "CIO_READ_TIMEOUT": 1,
    "CIO_CONNECT_TIMEOUT": 1,
}


@pytest.fixture
def fake(settings) -> Iterator[FakeCustomerIO]:
    server = FakeCustomerIO().start()
    settings.CIO_TRACK_URL_US = settings.CIO_TRACK_URL_EU = server.url
    yield server
    server.stop()


def make_destination(**fields: Any) -> Destination:
    source = Source.objects.create(name=f"source-{next(_names)}")
    destination = Destination.objects.create(
        **{"name": f"customer.io-{next(_names)}", "site_id": SITE_ID, "api_key": API_KEY, **fields}
    )
    destination.sources.add(source)
    return destination


def track(person: str, event: str, **properties: Any) -> dict[str, Any]:
    return {"type": "track", "userId": person, "event": event, "properties": properties}


def identify(person: str, **traits: Any) -> dict[str, Any]:
    return {"type": "identify", "userId": person, "traits": traits}


def make_delivery(
    destination: Destination, message: dict[str, Any], *, now: datetime | None = None, **fields: Any
) -> Delivery:
    """An event and its pending delivery, as the ingestion API stores them."""
    now = now or timezone.now()
    message = {"messageId": str(uuid.uuid4()), "context": {}, **message}
    source = destination.sources.first()
    event = store_event(source, message, now)
    return Delivery.objects.create(
        **{
            "event": event,
            "destination": destination,
            "source": source,
            "message_type": event.type,
            "event_name": event.event_name,
            "person": event.user_id or event.anonymous_id,
            "next_attempt_at": now,
            "created_at": now,
            **fields,
        }
    )


def reload(delivery: Delivery) -> Delivery:
    return Delivery.objects.get(pk=delivery.pk)


@pytest.fixture
def celery(tmp_path: Path, request) -> Iterator[CeleryFactory]:
    """Start workers and beat with `celery.worker(fake, **settings)`; all are stopped afterwards."""
    factory = CeleryFactory(tmp_path)
    processes.purge_broker()
    yield factory
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    factory.stop_all(print_logs=failed)


class CeleryFactory:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[processes.CeleryProcess] = []

    def worker(self, fake: FakeCustomerIO, name: str = "worker", **overrides: Any) -> processes.CeleryProcess:
        env = processes.process_env(fake.url, **{**FAST_WORKER, **overrides})
        return self._start(processes.worker(self.log_dir, env, name=name))

    def beat(self, fake: FakeCustomerIO, **overrides: Any) -> processes.CeleryProcess:
        env = processes.process_env(fake.url, **{**FAST_WORKER, **overrides})
        return self._start(processes.beat(self.log_dir, env))

    def _start(self, process: processes.CeleryProcess) -> processes.CeleryProcess:
        self.started.append(process)
        return process.start()

    def stop_all(self, print_logs: bool) -> None:
        for process in self.started:
            process.stop()
            if print_logs:
                print(f"----- {process.log_path.name} -----\n{process.log()[-6000:]}")
