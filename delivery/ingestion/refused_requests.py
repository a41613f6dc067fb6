"""What the ingestion API refused, kept so a person can see why events never arrived.

Every refusal (4xx) is counted by source, hour and reason (RefusalCount). A few are also kept whole as
examples (RefusedRequest): the answer's message, path, client address, user agent and the body cut to
BODY_LIMIT characters. A flood of bad requests must neither fill the database nor slow the API: one
write per refused request would make every refusal wait for a commit, and every process queue on the
same hot count row. So:

- each process keeps at most EXAMPLES_PER_SECOND examples a second per source and reason;
- counts are added up in the process and written with the next example, or at most every
  FLUSH_SECONDS (by the request that finds them due, else by a timer thread): past the first few
  refusals of a second, a refusal costs no query. A process that dies loses at most that much counting;
- every TRIM_EVERY-th example a process keeps of a source and reason deletes that pair's examples
  beyond the newest KEEP_PER_REASON: with P processes a pair holds at most KEEP_PER_REASON + P x
  (TRIM_EVERY - 1) rows, and a source at most that many per reason (about ten reasons exist).

No write key is ever kept: not the Authorization header nor the query string (neither is stored),
not a `writeKey` in the body (redacted from the cut body), and any key the request offered is
replaced wherever it appears (the path of /v1/projects/<writeKey>/settings, the body, the user agent).

Recording must never change the answer: a database error while recording is logged, the refusal is
answered as before, and this process stops recording for PAUSE_SECONDS so a database that is down
is not asked again for every request of a flood.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.request import Request

from cio_project.client_address import address_of
from delivery.models import RefusalCount, RefusedRequest

logger = logging.getLogger(__name__)

BODY_LIMIT = 2048
EXAMPLES_PER_SECOND = 2
FLUSH_SECONDS = 1.0
KEEP_PER_REASON = 50
TRIM_EVERY = 10
PAUSE_SECONDS = 10.0
REDACTED = "[redacted]"
# A UTF-8 character is at most 4 bytes: this many bytes always hold BODY_LIMIT characters and 256 more,
# so a key (ours are 32 characters) that straddles the cut is replaced whole before the cut.
_BODY_WINDOW = BODY_LIMIT * 4 + 1024
_WRITE_KEY_FIELD = re.compile(r'("writeKey"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|\Z)')
_MAX_TRACKED = 10_000

# (source id, code): whose examples are sampled and trimmed together.
Key = tuple[int | None, str]
# (source id, hour, status, code): one RefusalCount row.
CountKey = tuple[int | None, datetime, int, str]

_lock = threading.Lock()
_kept_this_second: dict[Key, tuple[int, int]] = {}
_kept_since_trim: dict[Key, int] = {}
_pending: Counter[CountKey] = Counter()
_last_flush = 0.0
_timer: threading.Timer | None = None
_paused_until = 0.0


@dataclass(frozen=True)
class ReadBody:
    """What the body parser read: the size on the wire, and the JSON text (decompressed) when known."""

    size: int
    text: bytes | None


def note_body(request: Request, size: int, text: bytes | None) -> None:
    """Called by the body parser: the body as read, for an example should the request be refused."""
    request.ingest_body = ReadBody(size, text)


def note_offered_key(request: Request, key: str | None) -> None:
    """Called by authentication with the write key the request offered, so no example ever holds it."""
    if key:
        request.ingest_offered_key = key


def forget() -> None:
    """Drop this process's counts not yet written, its sampling and trimming state, and resume
    recording (for tests)."""
    global _paused_until, _last_flush
    with _lock:
        _kept_this_second.clear()
        _kept_since_trim.clear()
        _pending.clear()
        _last_flush = 0.0
        _paused_until = 0.0


def record(request: Request | None, status: int, code: str, message: str, source_id: int | None) -> None:
    """Count the refusal, and keep it as an example if its source and reason have room this second."""
    if request is None or _paused():
        return
    now = timezone.now()
    key = (source_id, code)
    with _lock:
        _pending[(source_id, now.replace(minute=0, second=0, microsecond=0), status, code)] += 1
    example = _sampled(key, int(time.time()))
    if not example and not _flush_due():
        _flush_later()
        return
    try:
        with transaction.atomic():
            _write_counts(_take_pending())
            if example:
                _keep(request, now, status, code, message, source_id)
                if _due_for_trim(key):
                    _trim(source_id, code)
    # Nothing here may turn a refusal into a 500: a full disk, a database that is down, a bug.
    except Exception:
        _failed(f"{status} {code}")


def flush() -> None:
    """Write the counts this process has not written yet (the timer's work; tests call it)."""
    if _paused():
        return
    try:
        with transaction.atomic():
            _write_counts(_take_pending())
    except Exception:
        _failed("counts")


def _paused() -> bool:
    return time.monotonic() < _paused_until


def _failed(what: str) -> None:
    global _paused_until
    logger.exception(
        "ingestion: could not record refused requests (%s); answered them all the same, and pausing "
        "the recording of refusals for %g s",
        what,
        PAUSE_SECONDS,
    )
    _paused_until = time.monotonic() + PAUSE_SECONDS


def _flush_due() -> bool:
    return time.monotonic() - _last_flush >= FLUSH_SECONDS


def _take_pending() -> list[tuple[CountKey, int]]:
    global _last_flush
    with _lock:
        taken = list(_pending.items())
        _pending.clear()
        _last_flush = time.monotonic()
    # One order in every process, so two flushes never wait on each other's rows (no deadlock).
    return sorted(taken, key=lambda item: (item[0][0] or 0, *item[0][1:]))


def _flush_later() -> None:
    global _timer
    with _lock:
        if _timer is not None:
            return
        timer = _timer = threading.Timer(FLUSH_SECONDS, _flush_in_background)
        timer.daemon = True
    timer.start()


def _flush_in_background() -> None:
    global _timer
    with _lock:
        _timer = None
    try:
        flush()
    finally:
        # This thread's own connection: the next timer is a new thread.
        connections.close_all()


def _write_counts(counts: list[tuple[CountKey, int]]) -> None:
    for (source_id, hour, status, code), number in counts:
        same = RefusalCount.objects.filter(source_id=source_id, hour=hour, status=status, code=code)
        if same.update(count=F("count") + number):
            continue
        try:
            with transaction.atomic():
                RefusalCount.objects.create(
                    source_id=source_id, hour=hour, status=status, code=code, count=number
                )
        except IntegrityError:
            # Another process created the hour's row first.
            same.update(count=F("count") + number)


def _sampled(key: Key, second: int) -> bool:
    with _lock:
        if len(_kept_this_second) > _MAX_TRACKED:
            _kept_this_second.clear()
        seen_second, kept = _kept_this_second.get(key, (second, 0))
        kept = kept if seen_second == second else 0
        if kept >= EXAMPLES_PER_SECOND:
            return False
        _kept_this_second[key] = (second, kept + 1)
        return True


def _due_for_trim(key: Key) -> bool:
    with _lock:
        if len(_kept_since_trim) > _MAX_TRACKED:
            _kept_since_trim.clear()
        kept = _kept_since_trim.get(key, 0) + 1
        _kept_since_trim[key] = kept % TRIM_EVERY
        return kept >= TRIM_EVERY


def _trim(source_id: int | None, code: str) -> None:
    examples = RefusedRequest.objects.filter(source_id=source_id, code=code)
    oldest_kept = examples.order_by("-id").values_list("id", flat=True)[KEEP_PER_REASON - 1 : KEEP_PER_REASON]
    boundary = next(iter(oldest_kept), None)
    if boundary is not None:
        examples.filter(id__lt=boundary).delete()


def _keep(
    request: Request, now: datetime, status: int, code: str, message: str, source_id: int | None
) -> None:
    keys = _offered_keys(request)
    body, size = _cut_body(request, keys)
    RefusedRequest.objects.create(
        source_id=source_id,
        received_at=now,
        status=status,
        code=code,
        message=scrub(message, keys),
        method=request.method[:8],
        path=scrub(request.path, keys)[:255],
        client_address=address_of(request.META)[:64],
        user_agent=scrub(request.META.get("HTTP_USER_AGENT", ""), keys)[:255],
        body=body,
        body_bytes=size,
    )


def _offered_keys(request: Request) -> list[str]:
    """Every write key the request offered: to authentication, in its body, or in its path."""
    keys = [getattr(request, "ingest_offered_key", None)]
    parsed = request.__dict__.get("_full_data")
    if type(parsed) is dict:
        keys.append(parsed.get("writeKey"))
    match = getattr(request, "resolver_match", None)
    if match is not None:
        keys.append(match.kwargs.get("write_key"))
    # Longest first, so a key that holds another is replaced whole.
    return sorted({key for key in keys if isinstance(key, str) and key}, key=len, reverse=True)


def _cut_body(request: Request, keys: list[str]) -> tuple[str, int | None]:
    read = getattr(request, "ingest_body", None)
    if read is None:
        return "", None
    if read.text is None:
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "")
        return (
            f"(not kept: a Content-Encoding {encoding} body, refused before it was decompressed)",
            read.size,
        )
    parsed = request.__dict__.get("_full_data")
    if type(parsed) is dict and "writeKey" in parsed:
        # Parsed, so however the body spelt the key (escapes included), it is gone.
        text = json.dumps({**parsed, "writeKey": REDACTED}, ensure_ascii=False)[:_BODY_WINDOW]
    else:
        text = read.text[:_BODY_WINDOW].decode("utf-8", errors="replace")
        text = _WRITE_KEY_FIELD.sub(rf'\1"{REDACTED}"', text)
    text = scrub(text, keys)
    return (text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"), read.size


def scrub(text: str, keys: list[str]) -> str:
    """`text` with every key replaced by REDACTED."""
    for key in keys:
        text = text.replace(key, REDACTED)
    return text
