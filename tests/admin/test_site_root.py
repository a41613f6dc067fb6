"""What the server answers outside its APIs: `/` leads to the admin, /favicon.ico is an icon, and the
admin links it instead of offering a "View site" that leads nowhere."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_root_leads_to_the_admin(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    # and a person who follows it lands on the login page
    assert client.get("/", follow=True).redirect_chain[-1] == ("/admin/login/?next=/admin/", 302)


def test_the_root_refuses_a_post_plainly(client):
    assert client.post("/").status_code == 405


def test_the_favicon_is_served_without_a_not_found_line(caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg") and b"</svg>" in response.content
    assert "max-age=" in response["Cache-Control"]
    assert [record.getMessage() for record in caplog.records] == []


def test_admin_pages_link_the_icon_and_offer_no_view_site(admin_client, client):
    for page in (admin_client.get("/admin/").content.decode(), client.get("/admin/login/").content.decode()):
        assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml">' in page
    assert "View site" not in admin_client.get("/admin/").content.decode()
