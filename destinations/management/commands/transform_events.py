"""Preview what cio-relay would send to Customer.io: see destinations/customerio/cli.py."""

from __future__ import annotations

import io
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from destinations.customerio import cli


class Command(BaseCommand):
    help = (
        'Read JSON lines {"config": {...}, "message": {...}} from stdin and write, per line, the '
        'Customer.io requests as {"requests": [...]} or {"error": {"message", "kind"}}. "config" takes '
        "RudderStack's destination Config keys (siteID, apiKey, datacenter, deviceTokenEventName, ...) "
        "plus apiVersion, convertToUnixTime, cioIdentifiers, deduplicationIds and checkLimits. "
        "Blank lines are skipped; a line that is not JSON gets an error line of its own."
    )
    requires_system_checks: list[str] = []
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            action="store_true",
            help=(
                "Treat stdin as one destination's stream and write one line per outgoing request, "
                '{"messages": [input indexes], "request": {...}}, then one per failed line, '
                '{"messages": [i], "error": {...}}. Indexes count non-blank lines from 0. The first '
                "line's config is the stream's: a line whose config differs gets a configuration error."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        cli.run(_lines(options.get("stdin") or sys.stdin), self.stdout, batch=options["batch"])


def _lines(stream: Any) -> Any:
    """Lines as text; bytes that are not UTF-8 survive as lone surrogates, which the transformer refuses
    with a clear error if they reach a request."""
    if hasattr(stream, "buffer"):
        return io.TextIOWrapper(stream.buffer, encoding="utf-8", errors="surrogateescape")
    return stream
