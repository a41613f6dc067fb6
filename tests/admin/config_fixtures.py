"""Fixtures and factories for the tests of the admin's configuration pages (sources, destinations).

Imported explicitly by the test modules that use them.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from destinations.models import Destination, Source

OTHER_API_KEY = "fedcba9876543210" * 4


def admin_url(obj: Source | Destination, view: str) -> str:
    return reverse(f"admin:destinations_{obj._meta.model_name}_{view}", args=[obj.pk])


def page(response) -> str:
    return response.content.decode()


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
