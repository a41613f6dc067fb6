"""cio_project/wsgi.py: the API's routes run through settings.API_MIDDLEWARE, the admin through all of
MIDDLEWARE. Called as gunicorn calls it, with a WSGI environ, on the test database."""

from __future__ import annotations

import base64
import io
import json
import sys

import pytest
from django.conf import settings

from cio_project import wsgi
from tests.support.factories import make_destination

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "https://shop.example"


def serve(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE",) else f"HTTP_{key}"] = value
    started = []
    result = wsgi.application(
        environ, lambda status, headers, exc_info=None: started.append((status, headers))
    )
    content = b"".join(result)
    result.close()
    status, header_list = started[0]
    return int(status.split()[0]), {name.lower(): value for name, value in header_list}, content


def test_the_api_middleware_is_a_part_of_the_whole():
    assert set(settings.API_MIDDLEWARE) <= set(settings.MIDDLEWARE)
    order = [name for name in settings.MIDDLEWARE if name in settings.API_MIDDLEWARE]
    assert order == settings.API_MIDDLEWARE


def test_an_event_goes_through_the_api_chain_with_cors_a_request_id_and_no_cookie():
    destination = make_destination()
    source = destination.sources.get()
    auth = "Basic " + base64.b64encode(f"{source.write_key}:".encode()).decode()
    event = {"type": "track", "userId": "u1", "event": "Signed Up", "messageId": "handlers-1"}
    status, headers, content = serve(
        "POST",
        "/v1/track",
        {"Authorization": auth, "Content-Type": "application/json", "Origin": ORIGIN},
        json.dumps(event).encode(),
    )
    assert (status, json.loads(content)) == (200, {"success": True})
    assert headers["access-control-allow-origin"] == ORIGIN
    assert len(headers["x-request-id"]) == 32
    # No session, CSRF or CSP work on this route: no cookie, no Vary on it, no policy.
    assert "set-cookie" not in headers and "cookie" not in headers.get("vary", "").lower()
    assert "content-security-policy" not in headers and "x-frame-options" not in headers


def test_a_preflight_is_answered_by_the_api_chain():
    status, headers, _ = serve(
        "OPTIONS",
        "/v1/t",
        {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert 200 <= status < 300 and headers["access-control-allow-origin"] == ORIGIN


def test_an_unknown_api_path_is_the_api_s_json_404():
    status, headers, content = serve("GET", "/v1/nowhere")
    assert status == 404 and headers["content-type"] == "application/json"
    assert json.loads(content)["code"] == "not_found"


def test_the_admin_goes_through_the_whole_chain():
    status, headers, _ = serve("GET", "/admin/login/")
    assert status == 200
    assert "content-security-policy" in headers and headers["x-frame-options"] == "DENY"
    assert "csrftoken" in headers.get("set-cookie", "")
