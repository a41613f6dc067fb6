"""Slow clients cannot stall the web server: the real gunicorn, as `make run` starts it.

A client that trickles its headers or body holds a coroutine of the asyncio worker, never one of the
threads that run Django (cio_project/asgi.py); a body slower than the deadline is answered 408.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support import processes
from tests.support.services import free_port

SLOW_BODY_HEAD = (
    b"POST /v1/batch HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n"
)
SLOW_HEADERS_HEAD = b"POST /v1/batch HTTP/1.1\r\nHost: relay\r\n"


@pytest.fixture
def web(tmp_path, transactional_db) -> Iterator[str]:
    # One worker with two threads, and a body deadline longer than this test lasts.
    env = processes.process_env(WEB_BODY_DEADLINE_SECONDS="4")
    port = free_port()
    server = processes.web(tmp_path, env, port, workers=1, threads=2).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


class Trickle:
    """Connections that send their first bytes, then one more byte every `interval` seconds."""

    def __init__(self, port: int, head: bytes, count: int, interval: float) -> None:
        # A space is body; a header line's next letter keeps the headers unfinished.
        self.byte = b" " if head.endswith(b"\r\n\r\n") else b"X"
        self.stopped = threading.Event()
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        for connection in self.sockets:
            connection.sendall(head)
        self.thread = threading.Thread(target=self.drip, args=(interval,), daemon=True)
        self.thread.start()

    def drip(self, interval: float) -> None:
        while not self.stopped.wait(interval):
            for connection in self.sockets:
                with contextlib.suppress(OSError):
                    connection.sendall(self.byte)

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        for connection in self.sockets:
            connection.close()


def test_trickling_clients_do_not_hold_the_threads(web):
    # Given six clients trickling bodies and four trickling headers: more than the server's two threads
    port = int(web.rsplit(":", 1)[1])
    bodies = Trickle(port, SLOW_BODY_HEAD, count=6, interval=1.0)
    headers = Trickle(port, SLOW_HEADERS_HEAD, count=4, interval=1.0)
    try:
        time.sleep(1.5)
        # When a normal client asks, while every slow one is still sending
        answers = [requests.get(f"{web}/healthz", timeout=3) for _ in range(3)]
        # Then it is answered (a threaded server would make it wait for the slow bodies' deadline)
        assert [answer.status_code for answer in answers] == [200, 200, 200]
    finally:
        bodies.close()
        headers.close()


def test_a_body_slower_than_the_deadline_is_answered_408(web):
    # Given a client that sends its headers and then the body one byte a second
    port = int(web.rsplit(":", 1)[1])
    connection = socket.create_connection(("127.0.0.1", port), timeout=15)
    connection.sendall(SLOW_BODY_HEAD)
    started = time.monotonic()
    answer = b""
    try:
        while b"\r\n\r\n" not in answer and time.monotonic() - started < 12:
            connection.sendall(b" ")
            connection.settimeout(1.0)
            with contextlib.suppress(TimeoutError):
                answer += connection.recv(4096)
    finally:
        connection.close()
    # Then the server gives up on it after the deadline, with a 408
    assert answer.startswith(b"HTTP/1.1 408"), answer
