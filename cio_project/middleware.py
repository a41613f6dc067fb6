"""Cookies set in an answer to an HTTPS request are marked Secure, whatever the settings say.

SESSION_COOKIE_SECURE and CSRF_COOKIE_SECURE mark them Secure on every answer; they stay off by
default so that `make run` works on http://127.0.0.1:8000, where a browser would never send a Secure
cookie back. But a cookie set over HTTPS without Secure is sent again over plain HTTP to the same
host, where anyone on the path can read the session. So over HTTPS (request.is_secure(), which behind
a TLS proxy needs SECURE_PROXY_SSL_HEADER_ENABLED) every cookie is Secure, with no setting needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from cio_project import metrics

# Paths of the ingestion API, whose answer time is a histogram of its own.
INGESTION_PREFIXES = ("/v1/", "/beacon/")


class SecureCookiesOverHttps:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.is_secure():
            for cookie in response.cookies.values():
                cookie["secure"] = True
        return response


class CountRequests:
    """Every answer counted for /metrics by route pattern (never the raw path: ids and keys stay out)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match is not None and match.route else "unmatched"
        metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        if request.path.startswith(INGESTION_PREFIXES):
            metrics.INGEST_SECONDS.labels(route).observe(time.perf_counter() - started)
        return response
