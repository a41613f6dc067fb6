"""What the relay counts for Prometheus, in one place (served at GET /metrics, cio_project/metrics_view.py).

prometheus-client in its multiprocess mode, so that every gunicorn worker and every Celery process
counts: with PROMETHEUS_MULTIPROC_DIR set (`make run` sets it under the data directory), each process
writes its samples to files there and a scrape adds them up. Without it (one process, the tests'
in-process runs), the counts live in the process. Gauges that describe the database (the backlog) are
not kept here: the scrape reads them from the database, so they are right whichever process asks.

Labels are few and bounded: routes are URL patterns, destinations and sources are ids.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Ingestion
HTTP_REQUESTS = Counter(
    "cio_relay_http_requests",
    "HTTP requests answered, by route pattern, method and status.",
    ["route", "method", "status"],
)
INGEST_SECONDS = Histogram(
    "cio_relay_ingest_seconds",
    "Time to answer an ingestion request (validate, store, commit), by route pattern.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_ACCEPTED = Counter(
    "cio_relay_events_accepted", "Events stored by the ingestion API, by source id.", ["source"]
)
REQUESTS_REFUSED = Counter(
    "cio_relay_ingest_refused", "Ingestion requests refused, by status and reason code.", ["status", "code"]
)

# Delivery
DELIVERIES_FINISHED = Counter(
    "cio_relay_deliveries_finished",
    "Deliveries that reached a terminal state (delivered, filtered, failed), by destination id.",
    ["destination", "status"],
)
DELIVERY_RETRIES = Counter(
    "cio_relay_delivery_retries",
    "Deliveries scheduled for another attempt, by destination id.",
    ["destination"],
)
CUSTOMERIO_ANSWERS = Counter(
    "cio_relay_customerio_answers",
    "Requests to Customer.io by answer: 2xx, 3xx, 4xx, 5xx, or error (timeout, connection).",
    ["destination", "answer"],
)
SEND_SECONDS = Histogram(
    "cio_relay_customerio_request_seconds",
    "Time from sending a request to Customer.io to its answer, by destination id.",
    ["destination"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "cio_relay_rate_limit_wait_seconds",
    "Seconds requests waited for the destination's rate limit, by destination id.",
    ["destination"],
)
SWEEPER_ACTIONS = Counter(
    "cio_relay_sweeper_actions",
    "What the sweeper did: stale claims released, destinations rung with due work, tables analyzed,"
    " deliveries deleted.",
    ["action"],
)


# Warehouse sources and reporting webhooks
WAREHOUSE_RUNS = Counter(
    "cio_relay_warehouse_runs",
    "Warehouse sync runs that ended, by warehouse source id and state.",
    ["warehouse", "state"],
)
WAREHOUSE_ROWS = Counter(
    "cio_relay_warehouse_rows",
    "Rows of warehouse syncs, by warehouse source id and what they were: read, new, changed, removed, "
    "unchanged, failed.",
    ["warehouse", "kind"],
)
WEBHOOK_POSTS = Counter(
    "cio_relay_webhook_posts",
    "Customer.io reporting webhook posts, by destination id and answer: stored, bad signature, malformed, "
    "too large, unknown address.",
    ["destination", "answer"],
)


def answer_class(status: int | None) -> str:
    return "error" if status is None else f"{status // 100}xx"
