"""The one module that speaks HTTP to Customer.io (DESIGN.md invariant 9).

send() never raises for an HTTP outcome: a status, a timeout or a refused connection all come back
as an HttpResult, and answers.py decides what it means. Each thread keeps its own
keep-alive session. Base URLs come only from settings: the transformer writes the canonical
Customer.io hosts and this module swaps them for CIO_TRACK_URL_US/EU, refusing any other host.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import requests
from django.conf import settings
from django.utils import timezone
from requests.adapters import HTTPAdapter

from cio_project import __version__
from cio_project.log_redaction import MASK, redact
from destinations.customerio import HOSTS

USER_AGENT = f"cio-relay/{__version__}"
# Only what classify needs from the response headers.
KEPT_RESPONSE_HEADERS = ("Retry-After",)
# Enough connections for every sender thread of a task to keep its own open.
POOL_SIZE = 32

ErrorKind = Literal["timeout", "connection"]


class Sendable(Protocol):
    """What the transformer's OutgoingRequest offers (and what a caller can build by hand)."""

    method: str
    endpoint: str
    headers: Mapping[str, str]
    body: Any


class UnknownHostError(ValueError):
    """The request names a host that is not a Customer.io Track API host."""


@dataclass(frozen=True)
class HttpResult:
    """One HTTP exchange, as the delivery log shows it (Authorization already redacted)."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    started_at: datetime
    duration: float
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    error_kind: ErrorKind | None = None
    error: str = ""


_local = threading.local()


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        # Environment proxies and ~/.netrc could reroute requests or replace our Authorization header.
        session.trust_env = False
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=POOL_SIZE, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session = session
    return session


def resolve_url(endpoint: str) -> str:
    """The URL to call for a canonical Customer.io endpoint, with the base URL from settings."""
    for data_center, host in HOSTS.items():
        if endpoint == host or endpoint.startswith(host + "/"):
            base = settings.CIO_TRACK_URL_EU if data_center == "EU" else settings.CIO_TRACK_URL_US
            return base + endpoint[len(host) :]
    raise UnknownHostError(f"not a Customer.io Track API URL: {endpoint}")


def redacted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: MASK if name.lower() == "authorization" else value for name, value in headers.items()}


def wire_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers a request goes out with: the transformer's, plus ours."""
    return {**headers, "User-Agent": USER_AGENT, "Content-Type": "application/json"}


def encode_body(body: Any) -> str:
    return "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def send(request: Sendable) -> HttpResult:
    """Send one request to Customer.io and describe what happened. Raises only for a non-Customer.io host."""
    url = resolve_url(request.endpoint)
    body = encode_body(request.body)
    headers = wire_headers(request.headers)
    sent = {
        "method": request.method,
        "url": url,
        "request_headers": redacted_headers(headers),
        "request_body": body,
        "started_at": timezone.now(),
    }
    clock = time.monotonic()
    try:
        response = _session().request(
            request.method,
            url,
            data=body.encode() if body else None,
            headers=headers,
            timeout=(settings.CIO_CONNECT_TIMEOUT, settings.CIO_READ_TIMEOUT),
            allow_redirects=False,
        )
    except requests.RequestException as error:
        kind: ErrorKind = "timeout" if isinstance(error, requests.Timeout) else "connection"
        return HttpResult(**sent, duration=time.monotonic() - clock, error_kind=kind, error=_say(error))
    return HttpResult(
        **sent,
        duration=time.monotonic() - clock,
        status=response.status_code,
        response_headers={
            name: response.headers[name] for name in KEPT_RESPONSE_HEADERS if name in response.headers
        },
        # Decoded as UTF-8 without charset sniffing, which is slow on large bodies.
        response_body=response.content.decode("utf-8", errors="replace"),
    )


def _say(error: requests.RequestException) -> str:
    return redact(f"{type(error).__name__}: {error}")
