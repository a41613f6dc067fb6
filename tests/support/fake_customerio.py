"""A fake Customer.io Track API on 127.0.0.1 for tests and benchmarks.

It records every request and answers from a script that tests change while it runs:

    fake.answer(500, seconds=3)                         # every request, for the next 3 s
    fake.answer(429, headers={"Retry-After": "1"}, times=5, path="/api/v1/customers")
    fake.answer(207, body={"errors": [...]}, path="/api/v2/batch")
    fake.answer(200, delay=2.0)                          # stall past the read timeout
    fake.answer(400, match=lambda request: request.json.get("name") == "Bad")
    fake.answer(207, body=lambda request: {"errors": [...]})  # a body made for each request

The newest matching rule wins; with none left, it answers 200 `{}` after `default_delay` seconds.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    raw_body: bytes
    received_at: float
    status: int = 0  # what the fake answered
    answer_body: bytes = b""

    @property
    def json(self) -> Any:
        return json.loads(self.raw_body) if self.raw_body else None


@dataclass
class Rule:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    path: str | None = None
    match: Callable[[ReceivedRequest], bool] | None = None
    times: int | None = None
    until: float | None = None

    def applies_to(self, request: ReceivedRequest, now: float) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.until is not None and now >= self.until:
            return False
        if self.path is not None and not request.path.startswith(self.path):
            return False
        return self.match is None or self.match(request)


class FakeCustomerIO:
    def __init__(self, *, record_bodies: bool = True, default_delay: float = 0.0) -> None:
        self.record_bodies = record_bodies
        self.default_delay = default_delay
        self.received: list[ReceivedRequest] = []
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-customerio", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCustomerIO:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(
        self,
        status: int = 200,
        *,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        path: str | None = None,
        match: Callable[[ReceivedRequest], bool] | None = None,
        times: int | None = None,
        seconds: float | None = None,
    ) -> Rule:
        """Answer matching requests this way: for `times` requests, for `seconds`, or until cleared."""
        until = None if seconds is None else time.time() + seconds
        rule = Rule(status, body, headers or {}, delay, path, match, times, until)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget the script (not the requests received)."""
        with self._lock:
            self._rules.clear()

    def requests(self, path: str | None = None, status: int | None = None) -> list[ReceivedRequest]:
        with self._lock:
            received = list(self.received)
        return [
            request
            for request in received
            if (path is None or request.path.startswith(path))
            and (status is None or request.status == status)
        ]

    def _rule_for(self, request: ReceivedRequest) -> Rule | None:
        now = time.time()
        with self._lock:
            for rule in reversed(self._rules):
                if rule.applies_to(request, now):
                    if rule.times is not None:
                        rule.times -= 1
                    return rule
        return None

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.received.append(request)


def _handler_for(fake: FakeCustomerIO) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Customer.io

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if len(raw) < length:
                # The client went away mid-request (a SIGKILLed worker): a server never sees this
                # request whole, so it neither answers nor acts on it.
                self.close_connection = True
                return
            request = ReceivedRequest(
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                raw_body=raw,
                received_at=time.time(),
            )
            rule = fake._rule_for(request)
            body = b"{}" if rule is None or rule.body is None else _encode(rule.body, request)
            request.answer_body = body
            if not fake.record_bodies:
                request.raw_body = b""  # a benchmark's memory; the script has seen it already
            status = 200 if rule is None else rule.status
            request.status = status
            fake._record(request)
            time.sleep(fake.default_delay if rule is None else rule.delay)
            try:
                self.send_response(status)
                for name, value in ({} if rule is None else rule.headers).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a stall past its read timeout)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _encode(body: Any, request: ReceivedRequest) -> bytes:
    if callable(body):
        body = body(request)
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


@contextmanager
def running_fake(**options: Any) -> Iterator[FakeCustomerIO]:
    fake = FakeCustomerIO(**options).start()
    try:
        yield fake
    finally:
        fake.stop()
