"""Fixtures and markers shared by every test package."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

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


@pytest.fixture
def rings(monkeypatch) -> list[list[int]]:
    """Every doorbell ring (the destination ids it names), recorded instead of sent as a Celery message."""
    from delivery import doorbell

    rung: list[list[int]] = []
    monkeypatch.setattr(
        doorbell, "ring", lambda destination_ids, **kwargs: rung.append(list(destination_ids))
    )
    return rung
