"""A request id for every HTTP request, so one web log line leads to the deliveries it stored.

Taken from the client's (or the proxy's) `X-Request-ID` when it is a plain token, else made up; sent
back in the answer's `X-Request-ID`; on every log line written while the request is handled (the
`request_id` field); and stored with each event the request brings (delivery/ingestion/enrich.py), so a
delivery's page shows it and the worker's log lines for that delivery carry it too.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_current: ContextVar[str] = ContextVar("request_id", default="")


def current() -> str:
    """The id of the request being handled in this thread, "" outside one."""
    return _current.get()


class AssignRequestId:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = sent if _ACCEPTED.fullmatch(sent) else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response[HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Gives every record a `request_id`: the one it was logged with (extra=...), else the request's."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = _current.get() or "-"
        return True
