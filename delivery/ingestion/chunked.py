"""Request bodies sent with `Transfer-Encoding: chunked` and no Content-Length, as some HTTP clients
(and proxies) send them.

Django reads exactly CONTENT_LENGTH bytes of a body, so without one it sees an empty body. The server
(gunicorn) decodes the chunks and marks the input as terminated (`wsgi.input_terminated`, the WSGI
convention for this); this reads it, at most one byte past the largest body the API takes, and hands
Django the bytes with their length. The API then refuses an oversized body with its 413, as for any
other.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from delivery.ingestion.sizes import MAX_REQUEST_BYTES

# One byte past the largest body, so a larger body is seen as such.
MAX_READ_BYTES = MAX_REQUEST_BYTES + 1


class ChunkedBodies:
    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(MAX_READ_BYTES)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)
