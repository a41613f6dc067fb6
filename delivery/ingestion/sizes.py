"""The size limits of the ingestion API, in one place.

They match what the SDKs pointed at this server already respect: Segment's 32 KB per event and
RudderStack's 4 MB per request. MAX_REQUEST_BYTES caps both the bytes read from the wire and the
body after gzip decompression, so a small gzip bomb cannot grow into unbounded memory.
"""

from __future__ import annotations

KB = 1024
MB = 1024 * KB

MAX_EVENT_BYTES = 32 * KB
MAX_REQUEST_BYTES = 4 * MB
MAX_BATCH_EVENTS = 2500
# Event.message_id is a 255-character column, and it is the key that drops duplicates: it is
# never truncated, so a longer one is refused instead.
MAX_MESSAGE_ID_LENGTH = 255
# Deeper events are refused. No analytics event comes near it, and it leaves every later step (the
# transformer, the delivery log's JSON columns, a Celery worker's deeper stack) far below Python's
# recursion limit: an event the API accepts must never be one a worker cannot record.
MAX_NESTING_DEPTH = 100
