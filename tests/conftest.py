"""Fixtures and markers shared by every test package."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings

from tests.support.fake_customerio import FakeCustomerIO, running_fake

BACKEND = os.environ.get("CIO_TEST_BACKEND", "services" if not settings.EMBEDDED else "embedded")
ON_SERVICES = not settings.EMBEDDED and not settings.CELERY_EMBEDDED_BROKER


def pytest_report_header(config):
    database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "filesystem (embedded)" if settings.CELERY_EMBEDDED_BROKER else "redis"
    return f"cio-relay backend: {BACKEND} (database {database}, broker {broker})"


def pytest_collection_modifyitems(config, items):
    if ON_SERVICES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL and Redis (runs on the services backend)")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (`item.rep_call`), so fixtures can print logs on failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class Rings(list):
    """Every doorbell ring in order, each as the sorted ids of the destinations it names; `forced`
    says, ring by ring, whether it was forced past de-duplication (workers and the sweeper force)."""

    def __init__(self) -> None:
        super().__init__()
        self.forced: list[bool] = []

    def ring(self, destination_ids, *, force: bool = False) -> None:
        self.append(sorted(destination_ids))
        self.forced.append(force)


@pytest.fixture(autouse=True)
def refusals_counted_at_once(monkeypatch) -> None:
    """In-process ingestion writes each refusal's count at once, with a fresh sampling state: outside
    tests a timer thread writes counts within a second, which a test's transaction could not see."""
    from delivery.ingestion import refused_requests

    monkeypatch.setattr(refused_requests, "FLUSH_SECONDS", 0.0)
    refused_requests.forget()


@pytest.fixture
def rings(monkeypatch) -> Rings:
    """Doorbell rings, recorded instead of sent as Celery messages."""
    from delivery.engine import doorbell

    recorded = Rings()
    monkeypatch.setattr(doorbell, "ring", recorded.ring)
    return recorded


@pytest.fixture
def fake(settings) -> Iterator[FakeCustomerIO]:
    """A fake Customer.io Track API on 127.0.0.1 that both data centers' settings point at."""
    with running_fake() as server:
        settings.CIO_TRACK_URL_US = settings.CIO_TRACK_URL_EU = server.url
        yield server
