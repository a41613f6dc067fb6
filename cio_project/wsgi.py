"""Django's WSGI application. gunicorn serves it through cio_project/asgi.py, which hands it only whole
requests; WSGI_APPLICATION names it for Django's own tools.

Two Django handlers share the URLs: the API's routes (settings.API_PATH_ROOTS: ingestion, settings
documents, webhooks, health and metrics) run through settings.API_MIDDLEWARE, everything else (the
admin, static files, /) through the whole MIDDLEWARE. A single event is the relay's most frequent
request, and the admin's middleware (sessions, login, messages, CSRF, CSP, lockouts, static files) was
a sixth of its CPU for nothing it uses.
"""

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cio_project.settings")

admin_application = get_wsgi_application()  # sets Django up


class ApiHandler(WSGIHandler):
    """Django's handler with settings.API_MIDDLEWARE in place of settings.MIDDLEWARE."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django reads the list from settings alone. This runs once, at import, before any thread.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


api_application = ApiHandler()


def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """The request's handler, by the first segment of its path."""
    root = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
    handler = api_application if root in settings.API_PATH_ROOTS else admin_application
    return handler(environ, start_response)
