"""Wrong admin passwords are throttled (django-axes): a guesser is locked out, the owner is not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-for-tests"


@pytest.fixture
def ada(db) -> User:
    return User.objects.create_superuser("ada", "ada@example.com", PASSWORD)


def log_in(client: Client, password: str, address: str = "203.0.113.7"):
    return client.post(reverse("admin:login"), {"username": "ada", "password": password}, REMOTE_ADDR=address)


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, ada, settings):
    # Given five wrong passwords for ada from one address: the form again with an error, then the lockout
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200
    assert log_in(client, "wrong").status_code == 429
    # When the right password comes next from the same address
    response = log_in(client, PASSWORD)
    # Then it is refused with the lockout page, and nobody is logged in
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_address(client, ada, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong", address="203.0.113.7")
    # the owner, from their own address, still logs in
    other = Client()
    assert log_in(other, PASSWORD, address="198.51.100.2").status_code == 302
    assert other.session["_auth_user_id"] == str(ada.pk)


def test_a_right_password_resets_the_count(client, ada, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, ada, settings):
    from datetime import timedelta

    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong")
    assert log_in(client, PASSWORD).status_code == 429
    settings.AXES_COOLOFF_TIME = timedelta(seconds=0)
    assert log_in(client, PASSWORD).status_code == 302


def test_a_failure_is_not_logged_with_what_was_typed(client, ada, caplog):
    # a password typed into the user name box must not end up in a log
    client.post(reverse("admin:login"), {"username": PASSWORD, "password": "x"}, REMOTE_ADDR="203.0.113.7")
    assert PASSWORD not in caplog.text
