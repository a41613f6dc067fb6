"""The admin: every page needs a staff login, every form post needs its CSRF token, and cookies set
over HTTPS are Secure.

The URL walk reads `admin:` routes from the resolver, so pages the admin adds later are covered too.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

pytestmark = pytest.mark.django_db

# The only admin pages a visitor may see without logging in.
PUBLIC = {"admin:login"}
# Values for the URL parameters admin routes take; any value will do, since login is checked first.
PARAMETERS = {
    "object_id": "1",
    "content_type_id": "1",
    "id": "1",
    "url": "anything/",
    "source_id": "1",
    "event_id": "1",
}


def admin_routes(patterns: list, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from admin_routes(pattern.url_patterns, prefix)
        elif pattern.name:
            yield f"admin:{pattern.name}", pattern


def parameters(pattern: URLPattern) -> dict[str, str]:
    names = pattern.pattern.regex.groupindex
    values = {name: PARAMETERS.get(name, "x") for name in names}
    if "app_label" in values:
        values["app_label"] = next(iter(admin.site._registry))._meta.app_label
    return values


def admin_urls() -> list[str]:
    urls = {
        reverse(name, kwargs=parameters(pattern)) for name, pattern in admin_routes(admin.site.get_urls())
    }
    urls -= {reverse(name) for name in PUBLIC}
    return sorted(urls)


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_superuser("ada", "ada@example.com", "a-long-password-for-tests")


def test_the_walk_finds_the_admin_pages():
    urls = admin_urls()
    assert "/admin/" in urls and "/admin/auth/user/" in urls and "/admin/auth/user/1/change/" in urls
    assert len(urls) >= 15


@pytest.mark.parametrize("url", admin_urls())
def test_every_admin_page_requires_a_login(client, url):
    # Given a visitor who has not logged in
    for method in (client.get, client.post):
        # When they ask for an admin page, or post to it
        response = method(url)
        # Then they are sent to the login page (or, for a form post, refused by CSRF first)
        assert response.status_code in (302, 403), (method, url, response.status_code)
        if response.status_code == 302:
            assert (
                response["Location"].startswith(reverse("admin:login")) or response["Location"] == "/admin/"
            )


def test_a_logged_in_non_staff_user_is_not_let_in(client):
    User.objects.create_user("bob", "bob@example.com", "a-long-password-for-tests")
    client.force_login(User.objects.get(username="bob"))
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_logging_in_without_the_csrf_token_is_refused(staff):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        reverse("admin:login"), {"username": "ada", "password": "a-long-password-for-tests"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session


def test_an_admin_form_post_needs_its_csrf_token(staff):
    # Given a logged-in staff member whose browser enforces nothing for us
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff)
    add_user = reverse("admin:auth_user_add")
    form = {"username": "eve", "password1": "another-long-password-1", "password2": "another-long-password-1"}
    # When a form is posted without the token (as a forged cross-site post would be)
    forged = browser.post(add_user, form)
    # Then it is refused and nothing changes
    assert forged.status_code == 403
    assert not User.objects.filter(username="eve").exists()
    # And with the token from the form page, the same post goes through
    browser.get(add_user)
    token = browser.cookies["csrftoken"].value
    done = browser.post(add_user, {**form, "csrfmiddlewaretoken": token})
    assert done.status_code == 302
    assert User.objects.filter(username="eve").exists()


def login_over(secure: bool, **headers: str):
    """Log in through the login form, as a browser does; returns the login response."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("admin:login"), secure=secure, **headers)
    token = page.cookies["csrftoken"]
    form = {"username": "ada", "password": "a-long-password-for-tests", "csrfmiddlewaretoken": token.value}
    # A browser sends Origin with a form post; over HTTPS Django's CSRF check requires it to match.
    origin = "https://testserver" if secure or headers else "http://testserver"
    response = browser.post(reverse("admin:login"), form, secure=secure, HTTP_ORIGIN=origin, **headers)
    assert response.status_code == 302, response.content[:500]
    return page, response


def test_over_https_the_session_and_csrf_cookies_are_secure_by_default(staff):
    # Given the default settings (SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE unset)
    # When an admin logs in over HTTPS
    page, response = login_over(secure=True)
    # Then both cookies are marked Secure (and the session cookie HttpOnly)
    assert page.cookies["csrftoken"]["secure"] is True
    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True


def test_behind_a_tls_proxy_the_cookies_are_secure(staff, settings):
    # Given a deployment behind a TLS proxy that says so (SECURE_PROXY_SSL_HEADER_ENABLED=1)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # When an admin logs in through it
    page, response = login_over(secure=False, HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="testserver")
    # Then the cookies are Secure
    assert page.cookies["csrftoken"]["secure"] is True
    assert response.cookies["sessionid"]["secure"] is True


def test_with_the_settings_on_cookies_are_secure_whatever_the_request(staff, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    page, response = login_over(secure=False)
    assert page.cookies["csrftoken"]["secure"] is True
    assert response.cookies["sessionid"]["secure"] is True


def test_over_plain_http_on_the_default_settings_cookies_still_work(staff):
    # `make run` serves http://127.0.0.1:8000: a Secure cookie would never come back there
    page, response = login_over(secure=False)
    assert page.cookies["csrftoken"]["secure"] == ""
    assert response.cookies["sessionid"]["secure"] == ""
