"""A website on another origin that ships the browser SDKs from their npm packages, as a customer's would.

The site is a real HTTP server on its own port (so every call to the relay is cross-origin and goes
through the browser's real CORS checks, preflights included): nothing of the relay is routed or
answered by the test. The packages are the ones pinned in tests/package.json, installed by `npm ci`.

Segment's and Customer.io's bundles load some of their own code (chunks such as `ajs-destination`)
from their vendor's CDN whatever `cdnURL` says, which cannot be reached here. Those requests, and
only those, are answered from the same npm package through Chromium's DevTools protocol (the Fetch
domain, enabled for the vendor hosts' URL patterns alone).
"""

from __future__ import annotations

import base64
import functools
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"

RUDDERSTACK_BUNDLE = "@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js"
SEGMENT_BUNDLE = "@segment/analytics-next/dist/umd/index.js"
CUSTOMERIO_BUNDLE = "@customerio/cdp-analytics-browser/dist/umd/index.js"

# Where each vendor's bundle fetches its own chunks from, and the package folder that holds them.
VENDOR_CHUNKS = {
    "https://cdn.segment.com/analytics-next/bundles/": "@segment/analytics-next/dist/umd/",
    "https://cdp.customer.io/analytics-next/bundles/": "@customerio/cdp-analytics-browser/dist/umd/",
}


def require_packages() -> None:
    for bundle in (RUDDERSTACK_BUNDLE, SEGMENT_BUNDLE, CUSTOMERIO_BUNDLE):
        if not (NODE_MODULES / bundle).is_file():
            raise RuntimeError(f"{bundle} is missing: run `npm ci --prefix tests` (make test does)")


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title><script src="/node_modules/{bundle}"></script></head>
<body><h1>A shop on another origin</h1></body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@contextmanager
def website(folder: Path) -> Iterator[str]:
    """Serve one page per SDK (/rudderstack.html, /segment.html, /customerio.html) and the packages,
    from a thread of this process, until the block ends; yields the site's origin."""
    (folder / "node_modules").symlink_to(NODE_MODULES)
    for name, bundle in (
        ("rudderstack", RUDDERSTACK_BUNDLE),
        ("segment", SEGMENT_BUNDLE),
        ("customerio", CUSTOMERIO_BUNDLE),
    ):
        (folder / f"{name}.html").write_text(PAGE.format(bundle=bundle))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def serve_vendor_chunks(context, page) -> list[str]:
    """Answer the vendors' chunk URLs from their npm packages; returns the URLs answered, in order.

    Anything else under a vendor host is answered 404, as an unreachable CDN would fail it."""
    session = context.new_cdp_session(page)
    answered: list[str] = []

    def on_paused(event: dict) -> None:
        url = event["request"]["url"]
        file = _package_file(url)
        if file is None:
            session.send("Fetch.fulfillRequest", {"requestId": event["requestId"], "responseCode": 404})
            return
        answered.append(url)
        content_type = mimetypes.guess_type(file.name)[0] or "application/javascript"
        session.send(
            "Fetch.fulfillRequest",
            {
                "requestId": event["requestId"],
                "responseCode": 200,
                "responseHeaders": [
                    {"name": "Content-Type", "value": content_type},
                    {"name": "Access-Control-Allow-Origin", "value": "*"},
                ],
                "body": base64.b64encode(file.read_bytes()).decode(),
            },
        )

    session.on("Fetch.requestPaused", on_paused)
    hosts = {urlsplit(prefix).netloc for prefix in VENDOR_CHUNKS}
    session.send(
        "Fetch.enable", {"patterns": [{"urlPattern": f"https://{host}/*"} for host in sorted(hosts)]}
    )
    return answered


def _package_file(url: str) -> Path | None:
    path = urlsplit(url)._replace(query="", fragment="").geturl()
    for prefix, folder in VENDOR_CHUNKS.items():
        if path.startswith(prefix):
            file = (NODE_MODULES / folder / path[len(prefix) :]).resolve()
            if file.is_file() and file.is_relative_to(NODE_MODULES.resolve()):
                return file
    return None
