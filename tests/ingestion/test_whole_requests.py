"""cio_project/asgi.py: what reaches Django from the server's ASGI messages."""

from __future__ import annotations

import asyncio
import json

from cio_project.asgi import MAX_BODY_BYTES, WholeRequests

SCOPE = {
    "type": "http",
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "path": "/v1/batch",
    "query_string": b"writeKey=k",
    "root_path": "",
    "client": ("10.0.0.7", 5123),
    "server": ("127.0.0.1", 8000),
}


def echo(environ, start_response):
    """A WSGI application that answers with what it was given."""
    body = environ["wsgi.input"].read()
    seen = {
        "length": environ["CONTENT_LENGTH"],
        "read": len(body),
        "start": body[:20].decode(),
        "accept": environ.get("HTTP_ACCEPT"),
        "type": environ.get("CONTENT_TYPE"),
        "remote": environ["REMOTE_ADDR"],
        "query": environ["QUERY_STRING"],
        "encoding": environ.get("HTTP_TRANSFER_ENCODING"),
    }
    start_response("201 Created", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def call(headers: list[tuple[bytes, bytes]], chunks: list[bytes], disconnect: bool = False):
    """Run one request through the bridge; returns the messages it sent."""
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    if disconnect:
        messages.append({"type": "http.disconnect"})
    else:
        messages.append({"type": "http.request", "body": b"", "more_body": False})
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    bridge = WholeRequests(echo, threads=1)
    asyncio.run(bridge({**SCOPE, "headers": headers}, receive, send))
    bridge.pool.shutdown()
    return sent


def test_a_chunked_body_reaches_django_whole_with_its_length():
    sent = call(
        [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")], [b'{"a":', b"1}"]
    )
    assert sent[0]["status"] == 201
    seen = json.loads(sent[1]["body"])
    assert seen["length"] == "7" and seen["read"] == 7 and seen["start"] == '{"a":1}'
    assert seen["type"] == "application/json" and seen["encoding"] is None
    assert seen["remote"] == "10.0.0.7" and seen["query"] == "writeKey=k"


def test_repeated_headers_are_joined():
    sent = call([(b"accept", b"text/html"), (b"accept", b"application/json")], [])
    assert json.loads(sent[1]["body"])["accept"] == "text/html,application/json"


def test_a_body_past_the_limit_is_cut_one_byte_past_it():
    # So that the API answers its own 413 for it
    sent = call([], [b"x" * (MAX_BODY_BYTES // 2), b"x" * MAX_BODY_BYTES])
    seen = json.loads(sent[1]["body"])
    assert seen["length"] == str(MAX_BODY_BYTES) and seen["read"] == MAX_BODY_BYTES


def test_a_body_declared_too_large_is_not_read():
    sent = call([(b"content-length", str(MAX_BODY_BYTES * 3).encode())], [b"x" * 10])
    seen = json.loads(sent[1]["body"])
    assert seen["length"] == str(MAX_BODY_BYTES * 3) and seen["read"] == 0


def test_a_client_that_leaves_mid_body_gets_nothing():
    assert call([(b"content-length", b"100")], [b"x" * 10], disconnect=True) == []


def test_an_answer_without_a_length_is_sent_with_one():
    sent = call([], [b"{}"])
    headers = dict(sent[0]["headers"])
    assert headers[b"content-length"] == str(len(sent[1]["body"])).encode()
