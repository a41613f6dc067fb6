"""Fixtures for the event tester's and the dashboards' tests.

Test modules load them with `pytest_plugins = ["tests.admin.tools_fixtures"]` rather than from a
conftest, so they stay next to the tests of these two pages; the factories are in tools_factories.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from tests.support.fake_customerio import FakeCustomerIO

PASSWORD = "a-long-password-for-tests"


@dataclass
class Fakes:
    us: FakeCustomerIO
    eu: FakeCustomerIO

    def received(self) -> int:
        return len(self.us.requests()) + len(self.eu.requests())


@pytest.fixture
def fakes(settings) -> Iterator[Fakes]:
    """A fake Customer.io per data center, where the settings send every request."""
    servers = Fakes(FakeCustomerIO().start(), FakeCustomerIO().start())
    settings.CIO_TRACK_URL_US = servers.us.url
    settings.CIO_TRACK_URL_EU = servers.eu.url
    yield servers
    servers.us.stop()
    servers.eu.stop()


@pytest.fixture
def superuser_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("ada", "ada@example.com", PASSWORD))
    return client


@pytest.fixture
def viewer_client(db) -> Client:
    """Staff who may view destinations and deliveries, and change nothing."""
    user = User.objects.create_user("vic", "vic@example.com", PASSWORD, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_destination", "view_delivery"],
            content_type__app_label__in=["destinations", "delivery"],
        )
    )
    client = Client()
    client.force_login(user)
    return client
