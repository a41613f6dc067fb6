"""`manage.py transform_events`: JSON lines in, one JSON line out per input (or per request in --batch).

Each input line is {"config": {...}, "message": {...}}; blank lines are skipped and not counted. Output
lines are compact JSON, written and flushed in order:

- default: {"requests": [request, ...]} or {"error": {"message": ..., "kind": ...}} per input line;
- --batch: the lines are one destination's stream. Each output line is one request to send,
  {"messages": [input indexes], "request": {...}}, or one failed input, {"messages": [i], "error": {...}}.
  Requests come first, in sending order, then failures in input order. The first line's config is the
  stream's; a line with a different config fails with a configuration error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from destinations.customerio.errors import ConfigurationError, InstrumentationError, TransformError
from destinations.customerio.stream import StreamResult, transform_stream
from destinations.customerio.transform import transform


def run(lines: Iterable[str], out: TextIO, batch: bool = False) -> None:
    inputs = _inputs(lines)
    if batch:
        for result in _batch_results(inputs):
            _write(out, result.to_dict())
        return
    for _, parsed in inputs:
        _write(out, _single_result(parsed))


def _single_result(parsed: tuple[Any, Any] | TransformError) -> dict[str, Any]:
    if isinstance(parsed, TransformError):
        return {"error": parsed.to_dict()}
    config, message = parsed
    try:
        requests = transform(message, config)
    except TransformError as error:
        return {"error": error.to_dict()}
    return {"requests": [request.to_dict() for request in requests]}


def _batch_results(inputs: Iterable[tuple[int, tuple[Any, Any] | TransformError]]) -> list[StreamResult]:
    stream_config: Any = None
    accepted: list[tuple[int, Any]] = []
    refused: list[StreamResult] = []
    for index, parsed in inputs:
        if isinstance(parsed, TransformError):
            refused.append(StreamResult([index], error=parsed))
            continue
        config, message = parsed
        if stream_config is None:
            stream_config = config
        if config != stream_config:
            error = ConfigurationError(
                "this line's config differs from the first line's: --batch takes one destination"
            )
            refused.append(StreamResult([index], error=error))
            continue
        accepted.append((index, message))
    results = transform_stream(dict(accepted), stream_config).results()
    sent = [result for result in results if result.request is not None]
    failed = sorted((r for r in results + refused if r.error is not None), key=lambda r: r.messages[0])
    return sent + failed


def _inputs(lines: Iterable[str]) -> Iterator[tuple[int, tuple[Any, Any] | TransformError]]:
    """(index, (config, message)) per non-blank line, or (index, error) for a line that is not one."""
    index = 0
    for line in lines:
        if line.strip():
            yield index, _parse(line)
            index += 1


def _parse(line: str) -> tuple[Any, Any] | TransformError:
    try:
        value = json.loads(line, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        return InstrumentationError(f"the line is not JSON: {error}")
    if not isinstance(value, dict) or "message" not in value:
        return InstrumentationError('the line must be a JSON object {"config": {...}, "message": {...}}')
    if not isinstance(value.get("config"), dict):
        return ConfigurationError('the line has no "config" object')
    return value["config"], value["message"]


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _write(out: TextIO, value: dict[str, Any]) -> None:
    out.write(json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n")
    out.flush()
