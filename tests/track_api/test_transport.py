"""The HTTP module: base URLs from settings only, our headers, timeouts, no redirects, no exceptions."""

from __future__ import annotations

import pytest

from destinations.customerio import OutgoingRequest
from destinations.track_api import transport


def request(endpoint: str = "https://track.customer.io/api/v1/customers/ann", **fields) -> OutgoingRequest:
    return OutgoingRequest(
        fields.get("method", "PUT"), endpoint, {"Authorization": "Basic c2VjcmV0OmtleQ=="}, {"plan": "pro"}
    )


def test_sends_to_the_configured_base_url_with_our_headers(fake):
    result = transport.send(request())
    (received,) = fake.requests()
    assert received.path == "/api/v1/customers/ann"
    assert received.json == {"plan": "pro"}
    assert received.headers["User-Agent"].startswith("cio-relay/")
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["Authorization"] == "Basic c2VjcmV0OmtleQ=="
    assert (result.status, result.url) == (200, fake.url + "/api/v1/customers/ann")
    assert result.request_headers["Authorization"] == "[redacted]"


def test_the_eu_host_maps_to_the_eu_setting(settings):
    settings.CIO_TRACK_URL_EU = "http://eu.example"
    assert (
        transport.resolve_url("https://track-eu.customer.io/api/v2/batch") == "http://eu.example/api/v2/batch"
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://evil.example/api/v1/customers/a",
        "https://track.customer.io.evil.example/x",
        "http://track.customer.io/",
    ],
)
def test_refuses_any_other_host(endpoint):
    with pytest.raises(transport.UnknownHostError):
        transport.send(request(endpoint))


def test_a_redirect_is_not_followed(fake):
    fake.answer(302, headers={"Location": "http://127.0.0.1:1/elsewhere"})
    result = transport.send(request())
    assert result.status == 302
    assert len(fake.requests()) == 1


def test_a_stall_past_the_read_timeout_comes_back_as_a_timeout(fake, settings):
    settings.CIO_READ_TIMEOUT = 0.2
    fake.answer(200, delay=1.0)
    result = transport.send(request())
    assert (result.status, result.error_kind) == (None, "timeout")
    assert result.duration < 0.9


def test_a_refused_connection_comes_back_as_a_connection_error(settings):
    settings.CIO_TRACK_URL_US = "http://127.0.0.1:1"
    result = transport.send(request())
    assert (result.status, result.error_kind) == (None, "connection")
    assert "ConnectionError" in result.error


def test_keeps_the_retry_after_header(fake):
    fake.answer(429, headers={"Retry-After": "3"})
    assert transport.send(request()).response_headers == {"Retry-After": "3"}
