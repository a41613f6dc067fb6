"""Ingestion benchmark: accepted events/s and p50/p99 latency under gunicorn on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cio_bench_ingest /work/venv/bin/python bench/ingestion.py

The database named in DATABASE_URL is created, migrated, and dropped at the end: give a throwaway name.
Two loads run against gunicorn with concurrent keep-alive clients (several processes, several threads
each): single-event requests to /v1/track, and 100-event batches to /v1/batch. In the same run a
baseline stores the same rows (events and their deliveries, 100 per transaction) with a bare COPY,
so the API's cost per event is printed as a ratio of the bare insert's. Ringing uses Redis
(CELERY_BROKER_URL, default redis://127.0.0.1:6379/1), as a PostgreSQL deployment would.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 100
PROPERTIES = {
    "order_id": "ord-000",
    "revenue": 42.5,
    "currency": "USD",
    "products": [{"sku": "A-1", "price": 20, "quantity": 1}, {"sku": "B-2", "price": 22.5, "quantity": 1}],
}
CONTEXT = {"library": {"name": "analytics-python", "version": "2.4.0"}, "locale": "en-US"}


def event(message_id: str) -> dict:
    """A typical server-side track call, about 400 bytes of JSON."""
    return {
        "type": "track",
        "userId": f"user-{message_id[-4:]}",
        "event": "Order Completed",
        "properties": PROPERTIES,
        "context": CONTEXT,
        "timestamp": "2026-01-05T10:00:00.000+00:00",
        "messageId": message_id,
    }


# --- Load generation ---------------------------------------------------------------------------


@dataclass
class LoadResult:
    events: int = 0
    requests: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)


def body(prefix: str, batch_size: int) -> bytes:
    if batch_size == 1:
        return json.dumps(event(prefix)).encode()
    batch = [event(f"{prefix}-{index}") for index in range(batch_size)]
    return json.dumps({"batch": batch, "sentAt": datetime.now(UTC).isoformat()}).encode()


def client_thread(
    port: int, key: str, batch_size: int, deadline: float, name: str, result: LoadResult
) -> None:
    path = "/v1/track" if batch_size == 1 else "/v1/batch"
    headers = {"Authorization": key, "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    counter = 0
    while time.monotonic() < deadline:
        counter += 1
        payload = body(f"{name}-{counter}", batch_size)
        started = time.perf_counter()
        connection.request("POST", path, payload, headers)
        response = connection.getresponse()
        response.read()
        result.latencies.append(time.perf_counter() - started)
        result.requests += 1
        if response.status == 200:
            result.events += batch_size
        else:
            result.failures += 1
    connection.close()


def client_process(args: tuple) -> LoadResult:
    port, key, batch_size, seconds, threads, process_name = args
    deadline = time.monotonic() + seconds
    results = [LoadResult() for _ in range(threads)]
    workers = [
        threading.Thread(
            target=client_thread,
            args=(port, key, batch_size, deadline, f"{process_name}-{index}", results[index]),
        )
        for index in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    merged = LoadResult()
    for result in results:
        merged.events += result.events
        merged.requests += result.requests
        merged.failures += result.failures
        merged.latencies.extend(result.latencies)
    return merged


def run_load(port: int, key: str, batch_size: int, seconds: float, processes: int, threads: int) -> dict:
    run_id = secrets.token_hex(4)
    jobs = [(port, key, batch_size, seconds, threads, f"{run_id}-{index}") for index in range(processes)]
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(client_process, jobs)
    elapsed = time.monotonic() - started
    latencies = sorted(latency for result in results for latency in result.latencies)
    return {
        "clients": processes * threads,
        "requests": sum(result.requests for result in results),
        "failures": sum(result.failures for result in results),
        "events_per_second": sum(result.events for result in results) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
    }


# --- The server and its database ---------------------------------------------------------------


def admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or not name:
        sys.exit("DATABASE_URL must be postgres://user@host:port/<throwaway database name>")
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), name


def create_database(url: str) -> None:
    server, name = admin_url(url)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    server, name = admin_url(url)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(url: str, broker: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(48),
        "CIO_RELAY_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
    }


SETUP = """
from destinations.models import Destination, Source
source = Source.objects.create(name="bench")
destination = Destination.objects.create(name="Customer.io bench", site_id="site", api_key="key")
destination.sources.add(source)
print(source.write_key)
"""


def prepare_database(env: dict[str, str]) -> str:
    """Migrate, create a source with one destination, and return its write key."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True)
    output = subprocess.run(
        [*manage, "shell", "--command", SETUP], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return output.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int):
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "cio_project.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads)]
    command += ["--keep-alive", "30", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- Baseline: the same rows with a bare COPY ----------------------------------------------------

EVENT_COPY = (
    "COPY delivery_event (id, source_id, message_id, type, user_id, anonymous_id, email, event_name,"
    " payload, received_at, duplicates_dropped) FROM STDIN"
)
DELIVERY_COPY = (
    "COPY delivery_delivery (event_id, destination_id, source_id, message_type, event_name, person, status,"
    " next_attempt_at, claimed_by, attempts, reason, created_at) FROM STDIN"
)


def stored_payload(message_id: str, now: str) -> str:
    """What the API stores for one event: the message with its filled-in fields."""
    message = event(message_id)
    message["context"] = {**CONTEXT, "ip": "127.0.0.1"}
    message.update(receivedAt=now, originalTimestamp=message["timestamp"], channel="server", sentAt=now)
    return json.dumps(message, separators=(",", ":"))


def copy_chunk(connection: psycopg.Connection, ids: tuple[int, int], prefix: str) -> None:
    source_id, destination_id = ids
    now = datetime.now(UTC)
    stamp = now.isoformat()
    with connection.transaction(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('delivery_event', 'id')) FROM generate_series(1, %s)",
            [BATCH_SIZE],
        )
        event_ids = [row[0] for row in cursor.fetchall()]
        with cursor.copy(EVENT_COPY) as copy:
            for index, event_id in enumerate(event_ids):
                message_id = f"{prefix}-{index}"
                person = f"user-{message_id[-4:]}"
                row = (event_id, source_id, message_id, "track", person, "", "", "Order Completed")
                copy.write_row((*row, stored_payload(message_id, stamp), now, 0))
        with cursor.copy(DELIVERY_COPY) as copy:
            for index, event_id in enumerate(event_ids):
                person = f"user-{prefix}-{index}"[-4:]
                row = (event_id, destination_id, source_id, "track", "Order Completed", person, "pending")
                copy.write_row((*row, now, "", 0, "", now))


def copy_worker(url: str, ids: tuple[int, int], deadline: float, name: str, counts: list[int]) -> None:
    with psycopg.connect(url) as connection:
        chunk = 0
        while time.monotonic() < deadline:
            chunk += 1
            copy_chunk(connection, ids, f"copy-{name}-{chunk}")
            counts.append(BATCH_SIZE)


def run_baseline(url: str, seconds: float, connections: int) -> dict:
    with psycopg.connect(url) as connection:
        ids = connection.execute(
            "SELECT s.id, d.id FROM destinations_source s, destinations_destination d WHERE s.name = 'bench'"
        ).fetchone()
    counts: list[int] = []
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    workers = [
        threading.Thread(target=copy_worker, args=(url, ids, deadline, str(index), counts))
        for index in range(connections)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"connections": connections, "events_per_second": sum(counts) / (time.monotonic() - started)}


# --- Report --------------------------------------------------------------------------------------


def report(single: dict, batch: dict, baseline: dict, options: argparse.Namespace) -> None:
    print(f"\ncio-relay ingestion benchmark: {os.cpu_count()} cores, gunicorn {options.workers} workers x "
          f"{options.threads} threads, PostgreSQL, {options.seconds:.0f} s per load")  # fmt: skip
    header = (
        f"{'load':<28}{'clients':>8}{'requests':>10}{'failed':>8}{'events/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, result in (("single events (/v1/track)", single), ("100-event batches (/v1/batch)", batch)):
        print(
            f"{label:<28}{result['clients']:>8}{result['requests']:>10}{result['failures']:>8}"
            f"{result['events_per_second']:>11.0f}{result['p50_ms']:>9.1f}{result['p99_ms']:>9.1f}"
        )
    rate = baseline["events_per_second"]
    print(f"{'baseline: bare COPY':<28}{baseline['connections']:>8}{'':>10}{'':>8}{rate:>11.0f}")
    print("\ncost per event relative to the bare COPY (lower is better):")
    print(f"  100-event batches: {rate / batch['events_per_second']:.1f}x")
    print(f"  single events:     {rate / single['events_per_second']:.1f}x")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each load")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--single-clients", type=int, default=16, help="concurrent single-event clients")
    parser.add_argument("--batch-clients", type=int, default=6, help="concurrent batch clients")
    parser.add_argument("--baseline-connections", type=int, default=2, help="concurrent COPY connections")
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    admin_url(url)
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
    create_database(url)
    try:
        env = server_env(url, broker, ROOT / "var" / "bench")
        key = "Basic " + base64.b64encode(f"{prepare_database(env)}:".encode()).decode()
        with gunicorn(env, options.workers, options.threads) as port:
            run_load(port, key, 1, 2, 2, 2)  # warm up: connections, caches
            single = run_load(port, key, 1, options.seconds, 2, options.single_clients // 2)
            batch = run_load(port, key, BATCH_SIZE, options.seconds, 2, max(1, options.batch_clients // 2))
        baseline = run_baseline(url, options.seconds, options.baseline_connections)
        report(single, batch, baseline, options)
    finally:
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
