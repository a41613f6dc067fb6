"""Cookies set in an answer to an HTTPS request are marked Secure, whatever the settings say.

SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE mark them Secure on every answer; they stay off by
default so that `make run` works on http://127.0.0.1:8000, where a browser would never send a Secure
cookie back. But a cookie set over HTTPS without Secure is sent again over plain HTTP to the same
host, where anyone on the path can read the session. So over HTTPS (request.is_secure(), which behind
a TLS proxy needs SECURE_PROXY_SSL_HEADER_ENABLED) every cookie is Secure, with no setting needed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SecureCookiesOverHttps:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for cookie in response.cookies.values():
                cookie["secure"] = True
        return response
