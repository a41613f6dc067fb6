"""A destination's reporting webhook in the admin: the address to paste into Customer.io, rotating it,
and the signing key, which is write-only like the API key."""

from __future__ import annotations

import html

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection

from destinations.models import Destination
from tests.admin import config_fixtures
from tests.admin.config_fixtures import admin_url, page
from tests.admin.test_destination_admin import change_data
from tests.support.factories import make_destination

pytestmark = pytest.mark.django_db
debug_logs = config_fixtures.debug_logs
viewer = config_fixtures.viewer

SIGNING_KEY = "cafe5191edcafe5191ed"
NEW_SIGNING_KEY = "beef5191edbeef5191ed"


def test_the_change_page_shows_the_full_address_to_paste(admin_client, settings):
    settings.PUBLIC_URL = "https://relay.example.com"
    destination = make_destination()
    text = page(admin_client.get(admin_url(destination, "change")))
    assert f"https://relay.example.com/webhooks/customerio/{destination.webhook_token}" in text
    assert "Reporting Webhooks" in html.unescape(text)


def test_without_public_url_the_address_is_the_requests_own(admin_client):
    destination = make_destination()
    text = page(admin_client.get(admin_url(destination, "change")))
    assert f"http://testserver/webhooks/customerio/{destination.webhook_token}" in text


def test_rotating_gives_a_new_address_and_says_so(admin_client):
    destination = make_destination()
    old = destination.webhook_token
    response = admin_client.post(admin_url(destination, "rotate_webhook_address"), follow=True)
    destination.refresh_from_db()
    assert destination.webhook_token != old and len(destination.webhook_token) >= 32
    text = html.unescape(page(response))
    assert "reporting webhook address" in text and destination.webhook_token in text
    assert LogEntry.objects.get(object_id=str(destination.pk)).get_change_message() == (
        "Changed reporting webhook address."
    )


def test_rotating_needs_a_post_and_the_change_permission(admin_client, viewer):
    destination = make_destination()
    old = destination.webhook_token
    assert admin_client.get(admin_url(destination, "rotate_webhook_address")).status_code == 405
    assert viewer.post(admin_url(destination, "rotate_webhook_address")).status_code == 403
    destination.refresh_from_db()
    assert destination.webhook_token == old


def test_the_signing_key_is_set_kept_and_replaced_without_ever_being_shown(admin_client, debug_logs):
    # Given a destination without a signing key
    destination = make_destination()
    # When an admin enters one
    response = admin_client.post(
        admin_url(destination, "change"), change_data(destination, webhook_signing_key=SIGNING_KEY)
    )
    assert response.status_code == 302
    destination.refresh_from_db()
    assert destination.webhook_signing_key == SIGNING_KEY
    # Then the change page says it is set, by its last four characters only
    text = html.unescape(page(admin_client.get(admin_url(destination, "change"))))
    assert f"Set, ending in …{SIGNING_KEY[-4:]}" in text and SIGNING_KEY not in text
    # And leaving it empty keeps it; entering another replaces it
    admin_client.post(admin_url(destination, "change"), change_data(destination, name="Renamed"))
    destination.refresh_from_db()
    assert destination.webhook_signing_key == SIGNING_KEY
    admin_client.post(
        admin_url(destination, "change"), change_data(destination, webhook_signing_key=NEW_SIGNING_KEY)
    )
    destination.refresh_from_db()
    assert destination.webhook_signing_key == NEW_SIGNING_KEY
    # And it is stored encrypted and never logged
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_signing_key FROM destinations_destination")
        (raw,) = cursor.fetchone()
    assert raw.startswith("fernet:")
    assert SIGNING_KEY not in debug_logs.text and NEW_SIGNING_KEY not in debug_logs.text


def test_a_mistyped_signing_key_is_named_and_not_shown_back(admin_client):
    destination = make_destination()
    response = admin_client.post(
        admin_url(destination, "change"), change_data(destination, webhook_signing_key="two words")
    )
    assert response.status_code == 200
    text = html.unescape(page(response))
    assert "The reporting webhook signing key must be 8 to 200 printable characters" in text
    assert "two words" not in text
    assert Destination.objects.get(pk=destination.pk).webhook_signing_key == ""
