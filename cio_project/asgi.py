"""The web application as gunicorn serves it: Django's WSGI application, reached only with whole requests.

gunicorn's threaded worker gives a connection to a thread when its first byte arrives; a client that
then sends its headers or body one byte every few seconds holds that thread for as long as it likes,
and ten such clients held every thread of `make run`. gunicorn's asyncio worker (`worker_class =
"asgi"`, cio_project/gunicorn.conf.py) reads requests on its event loop instead, where a slow client
costs a coroutine. This bridge keeps it so: it reads the whole body on the loop, within
BODY_DEADLINE_SECONDS and at most one byte past the largest body the relay takes, and only then runs
the request through Django in one of the process's WEB_THREADS threads. The views stay synchronous,
as everything else in the relay is.

A body cut at the limit reaches Django with the length that was read, so the API refuses it with its
own 413 (delivery/ingestion/body.py), and a chunked body arrives decoded, with its length.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import Any

from cio_project.wsgi import application as django_application
from delivery.ingestion.sizes import MAX_REQUEST_BYTES

# How long a client has to send a request's whole body; a slower one is answered 408.
BODY_DEADLINE_SECONDS = float(os.environ.get("WEB_BODY_DEADLINE_SECONDS", "30"))
# One byte past the largest body, so that a larger one is seen as such.
MAX_BODY_BYTES = MAX_REQUEST_BYTES + 1

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class ClientLeft(Exception):
    """The client closed the connection before its body was complete."""


class WholeRequests:
    """An ASGI application that runs a WSGI application in a thread pool, once each request is whole."""

    def __init__(self, wsgi_application: Callable, threads: int) -> None:
        self.wsgi_application = wsgi_application
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="web")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            await self.http(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown(wait=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        environ = wsgi_environ(scope)
        if int(environ.get("CONTENT_LENGTH") or 0) > MAX_REQUEST_BYTES:
            # Refused by its declared length alone (delivery/ingestion/body.py): no need to read it.
            environ["wsgi.input"] = BytesIO()
            await self.answer(send, environ)
            return
        try:
            body = await asyncio.wait_for(read_body(receive), BODY_DEADLINE_SECONDS)
        except ClientLeft:
            return
        except TimeoutError:
            await send_plain(send, 408, b"The request body did not arrive in time.\n")
            return
        environ["wsgi.input"] = BytesIO(body)
        # The length of what was read: a chunked body has one now, and a body cut at the limit says so.
        environ["CONTENT_LENGTH"] = str(len(body))
        await self.answer(send, environ)

    async def answer(self, send: Send, environ: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.pool, self.respond, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def respond(self, environ: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Run one request through the WSGI application; in a pool thread.

        The answer is collected whole before it is sent: the relay's answers are small (JSON, admin
        pages, static files), and a thread that never waits on the client is the point.
        """
        started: list[tuple[int, list[tuple[bytes, bytes]]]] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            code = int(status.split(" ", 1)[0])
            encoded = [(name.lower().encode("latin1"), value.encode("latin1")) for name, value in headers]
            started[:] = [(code, encoded)]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.wsgi_application(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started[0]
        content = b"".join(chunks)
        # Django's CommonMiddleware adds it, and the API's routes go without that (cio_project/wsgi.py).
        if not any(name == b"content-length" for name, _ in headers):
            headers.append((b"content-length", str(len(content)).encode()))
        return status, headers, content


async def read_body(receive: Receive) -> bytes:
    """The request's body, at most MAX_BODY_BYTES of it."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientLeft
        body += message.get("body", b"")
        if len(body) >= MAX_BODY_BYTES:
            return bytes(body[:MAX_BODY_BYTES])
        if not message.get("more_body", False):
            return bytes(body)


async def send_plain(send: Send, status: int, text: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


def wsgi_environ(scope: Scope) -> dict[str, Any]:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333), but for its body."""
    root = scope.get("root_path", "")
    path = scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    server_name, server_port = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode("utf-8").decode("latin1"),
        "PATH_INFO": path.encode("utf-8").decode("latin1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin1"),
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if scope.get("client"):
        environ["REMOTE_ADDR"] = scope["client"][0]
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin1").upper().replace("-", "_")
        value = raw_value.decode("latin1")
        if name == "TRANSFER_ENCODING":
            continue  # the body arrives decoded
        key = name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"
        # Repeated headers join with commas (RFC 9110 5.3), as WSGI servers pass them.
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


application = WholeRequests(django_application, threads=int(os.environ.get("WEB_THREADS", "4")))
