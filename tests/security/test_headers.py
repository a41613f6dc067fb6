"""Security headers on the admin: a Content-Security-Policy that allows no inline script, HSTS over
HTTPS only; and a login that never lands off the site."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_admin_pages_forbid_inline_and_foreign_scripts(admin_client):
    policy = admin_client.get("/admin/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_hsts_is_sent_over_https_only(admin_client, settings):
    settings.SECURE_SSL_REDIRECT = False
    assert "Strict-Transport-Security" not in admin_client.get("/admin/")
    secure = admin_client.get("/admin/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_a_tls_proxy_hsts_follows_x_forwarded_proto(admin_client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert "Strict-Transport-Security" in admin_client.get("/admin/", HTTP_X_FORWARDED_PROTO="https")


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", ""])
def test_a_login_with_an_unsafe_or_no_next_lands_on_the_admin(client, next_url):
    User.objects.create_superuser("ada", "ada@example.com", "a-long-password-for-tests")
    response = client.post(
        reverse("admin:login") + (f"?next={next_url}" if next_url else ""),
        {"username": "ada", "password": "a-long-password-for-tests", "next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
