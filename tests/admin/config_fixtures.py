"""Fixtures and factories for the tests of the admin's configuration pages (sources, destinations).

Imported explicitly by the test modules that use them.
"""

from __future__ import annotations

import base64
import itertools
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from destinations.models import Destination, Source
from tests.support.fake_customerio import FakeCustomerIO, running_fake

API_KEY = "0123456789abcdef0a1b"
OTHER_API_KEY = "fedcba9876543210" * 4
SITE_ID = "a1b2c3d4e5f6a7b8c9d0"
_numbers = itertools.count(1)


def secret_forms(site_id: str, api_key: str) -> list[str]:
    """The API key as itself, and inside the HTTP Basic credentials that would carry it."""
    return [api_key, base64.b64encode(f"{site_id}:{api_key}".encode()).decode()]


def make_source(name: str | None = None, **fields: Any) -> Source:
    return Source.objects.create(name=name or f"source {next(_numbers)}", **fields)


def make_destination(*sources: Source, **fields: Any) -> Destination:
    values = {"name": f"Customer.io {next(_numbers)}", "site_id": SITE_ID, "api_key": API_KEY, **fields}
    destination = Destination.objects.create(**values)
    destination.sources.set(sources)
    return destination


def admin_url(obj: Source | Destination, view: str) -> str:
    return reverse(f"admin:destinations_{obj._meta.model_name}_{view}", args=[obj.pk])


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def fake_customerio(settings) -> Iterator[FakeCustomerIO]:
    """A fake Track API that both data centers point at."""
    with running_fake() as fake:
        settings.CIO_TRACK_URL_US = settings.CIO_TRACK_URL_EU = fake.url
        yield fake


@pytest.fixture
def debug_logs(caplog) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG and above, from every logger."""
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def viewer(db) -> Client:
    """A staff member who may look at sources and destinations but not change them."""
    user = User.objects.create_user("vera", "vera@example.com", "a-long-password-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_source", "view_destination"]))
    client = Client()
    client.force_login(user)
    return client
