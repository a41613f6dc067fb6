"""Ingestion benchmark: accepted events/s and p50/p99 latency under gunicorn on PostgreSQL.

    .venv/bin/python bench/ingestion.py [--seconds 15]

The database named in DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cio_bench_ingest) is
created, migrated, and dropped at the end: give a throwaway name.
Two loads run against gunicorn with concurrent keep-alive clients (several processes, several threads
each): single-event requests to /v1/track, and 100-event batches to /v1/batch. Then three loads as
browsers send them, from another origin: a CORS preflight followed by the single event it clears (timed
as the pair, against the single event alone), and the two settings documents SDKs fetch at page load,
RudderStack's /sourceConfig/ and Segment's /v1/projects/<writeKey>/settings; then the single events
again while ten other clients send a body one byte a second (slow clients must not stall the server).
In the same run two
baselines store the same rows (events and their deliveries) with a bare COPY, 100 per transaction and
1 per transaction, so the API's cost per event is printed as a ratio of the bare insert committed as
the API commits (a batch per transaction, or one event per transaction). Ringing uses Redis
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import throwaway
from memory import PeakRss

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


ORIGIN = "https://shop.example.com"
PREFLIGHT_HEADERS = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,anonymousid",
}
# What each load sends per iteration (timed as one), and how many events that is.
LOADS = {
    "single": 1,
    "batch": BATCH_SIZE,
    "browser-event": 1,
    "source-config": 0,
    "project-settings": 0,
}


def iteration(kind: str, write_key: str, name: str) -> list[tuple[str, str, dict, bytes | None]]:
    """The requests one iteration of a load sends: (method, path, headers, body)."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()}
    json_body = {**auth, "Content-Type": "application/json"}
    if kind == "single":
        return [("POST", "/v1/track", json_body, body(name, 1))]
    if kind == "batch":
        return [("POST", "/v1/batch", json_body, body(name, BATCH_SIZE))]
    if kind == "browser-event":
        return [
            ("OPTIONS", "/v1/track", PREFLIGHT_HEADERS, None),
            ("POST", "/v1/track", {**json_body, "Origin": ORIGIN}, body(name, 1)),
        ]
    if kind == "source-config":
        path = f"/sourceConfig/?p=npm&v=3.34.1&writeKey={write_key}"
        return [("GET", path, {**auth, "Origin": ORIGIN}, None)]
    return [("GET", f"/v1/projects/{write_key}/settings", {"Origin": ORIGIN}, None)]


def client_thread(
    port: int, write_key: str, kind: str, deadline: float, name: str, result: LoadResult
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    counter = 0
    while time.monotonic() < deadline:
        counter += 1
        plan = iteration(kind, write_key, f"{name}-{counter}")
        started = time.perf_counter()
        statuses = []
        for method, path, headers, payload in plan:
            connection.request(method, path, payload, headers)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
        result.latencies.append(time.perf_counter() - started)
        result.requests += len(plan)
        if all(status == 200 for status in statuses):
            result.events += LOADS[kind]
        else:
            result.failures += 1
    connection.close()


def client_process(args: tuple) -> LoadResult:
    port, key, kind, seconds, threads, process_name = args
    deadline = time.monotonic() + seconds
    results = [LoadResult() for _ in range(threads)]
    workers = [
        threading.Thread(
            target=client_thread,
            args=(port, key, kind, deadline, f"{process_name}-{index}", results[index]),
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


def run_load(port: int, key: str, kind: str, seconds: float, processes: int, threads: int) -> dict:
    run_id = secrets.token_hex(4)
    jobs = [(port, key, kind, seconds, threads, f"{run_id}-{index}") for index in range(processes)]
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
        "iterations_per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
    }


# --- Server CPU: what each load cost the server, whatever else runs on the machine ----------------


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes, from /proc (Linux)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_pids(master: int, url: str) -> dict[str, list[int]]:
    """The gunicorn workers, and the PostgreSQL backends serving the bench database."""
    with open(f"/proc/{master}/task/{master}/children") as children:
        workers = [int(pid) for pid in children.read().split()]
    with psycopg.connect(url) as connection:
        backends = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return {"gunicorn": workers, "postgres": [pid for (pid,) in backends]}


def measured_load(master: int, url: str, load: dict) -> dict:
    """Run a load and add the server's CPU milliseconds per request to its figures."""
    before = {
        name: {pid: cpu_seconds([pid]) for pid in group} for name, group in server_pids(master, url).items()
    }
    result = run_load(**load)
    for name, group in server_pids(master, url).items():
        spent = sum(cpu_seconds([pid]) - before[name].get(pid, 0.0) for pid in group)
        result[f"{name}_cpu_ms"] = 1000 * spent / max(1, result["requests"])
    return result


# --- The server and its database ---------------------------------------------------------------


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
    # The server as `make run` starts it (cio_project/gunicorn.conf.py): its asyncio worker keeps client
    # connections alive, as SDKs' sessions expect, and runs Django in `threads` threads per worker.
    command = [sys.executable, "-m", "gunicorn", "--config", "cio_project/gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    env = {**env, "WEB_THREADS": str(threads)}
    command += ["--keep-alive", "30", "--log-level", "warning"]
    # Its own process group, so its memory (master and workers) can be summed.
    process = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
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
        yield port, process.pid
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
    " next_attempt_at, claimed_by, attempt_count, reason, created_at, replay_count) FROM STDIN"
)


def stored_payload(message_id: str, now: str) -> str:
    """What the API stores for one event: the message with its filled-in fields."""
    message = event(message_id)
    message["context"] = {**CONTEXT, "ip": "127.0.0.1"}
    message.update(receivedAt=now, originalTimestamp=message["timestamp"], channel="server", sentAt=now)
    return json.dumps(message, separators=(",", ":"))


def copy_rows(event_ids: list[int], ids: tuple[int, int], prefix: str) -> tuple[list[tuple], list[tuple]]:
    """The event and delivery rows the API would store for one batch, built before the clock starts."""
    source_id, destination_id = ids
    now = datetime.now(UTC)
    events, deliveries = [], []
    for index, event_id in enumerate(event_ids):
        message_id = f"{prefix}-{index}"
        person = f"user-{message_id[-4:]}"
        payload = stored_payload(message_id, now.isoformat())
        events.append(
            (event_id, source_id, message_id, "track", person, "", "", "Order Completed", payload, now, 0)
        )
        delivery = (event_id, destination_id, source_id, "track", "Order Completed", person, "pending")
        deliveries.append((*delivery, now, "", 0, "", now, 0))
    return events, deliveries


def copy_worker(url: str, chunks: list[tuple[list[tuple], list[tuple]]], cpu: list[float]) -> None:
    """One transaction per 100-event chunk, as the API commits one per batch; adds its backend's CPU."""
    with psycopg.connect(url) as connection:
        backend = [connection.info.backend_pid]
        started = cpu_seconds(backend)
        for events, deliveries in chunks:
            with connection.transaction(), connection.cursor() as cursor:
                with cursor.copy(EVENT_COPY) as copy:
                    for row in events:
                        copy.write_row(row)
                with cursor.copy(DELIVERY_COPY) as copy:
                    for row in deliveries:
                        copy.write_row(row)
        cpu.append(cpu_seconds(backend) - started)


def run_baseline(url: str, events: int, connections: int, per_transaction: int) -> dict:
    """The same rows with a bare COPY, `per_transaction` events (and their deliveries) per commit."""
    chunks_count = max(connections, events // per_transaction)
    with psycopg.connect(url) as connection:
        ids = connection.execute(
            "SELECT s.id, d.id FROM destinations_source s, destinations_destination d WHERE s.name = 'bench'"
        ).fetchone()
        reserved = connection.execute(
            "SELECT nextval(pg_get_serial_sequence('delivery_event', 'id')) FROM generate_series(1, %s)",
            [chunks_count * per_transaction],
        ).fetchall()
    event_ids = [row[0] for row in reserved]
    chunks = [
        copy_rows(event_ids[start : start + per_transaction], ids, f"copy-{per_transaction}-{start}")
        for start in range(0, len(event_ids), per_transaction)
    ]
    cpu: list[float] = []
    started = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        # list() re-raises a failed COPY here, rather than reporting a baseline that did not run.
        list(pool.map(lambda n: copy_worker(url, chunks[n::connections], cpu), range(connections)))
    elapsed = time.monotonic() - started
    return {
        "connections": connections,
        "per_transaction": per_transaction,
        "events_per_second": len(event_ids) / elapsed,
        "postgres_cpu_ms_per_event": 1000 * sum(cpu) / len(event_ids),
    }


# --- Report --------------------------------------------------------------------------------------


def report_browser(single: dict, browser: dict[str, dict]) -> None:
    print("\nas browsers send (Origin set; the relay answers CORS for it): latency of each iteration")
    header = f"{'load':<42}{'clients':>8}{'per s':>9}{'failed':>7}{'p50 ms':>8}{'p99 ms':>8}{'gunicorn':>10}"
    print(header)
    print("-" * len(header))
    labels = {
        "browser-event": "preflight + single event (OPTIONS, POST)",
        "source-config": "settings: GET /sourceConfig/",
        "project-settings": "settings: GET /v1/projects/<key>/settings",
    }
    for kind, result in browser.items():
        print(
            f"{labels[kind]:<42}{result['clients']:>8}{result['iterations_per_second']:>9.0f}"
            f"{result['failures']:>7}{result['p50_ms']:>8.1f}{result['p99_ms']:>8.1f}"
            f"{result['gunicorn_cpu_ms']:>10.2f}"
        )
    pair = browser["browser-event"]
    print(
        f"  the preflight + event pair against the single event alone, same clients: "
        f"{pair['p50_ms'] / single['p50_ms']:.2f}x p50, {pair['p99_ms'] / single['p99_ms']:.2f}x p99, "
        f"{single['events_per_second'] / pair['events_per_second']:.2f}x by throughput"
    )
    print("  (gunicorn is server CPU milliseconds per request)")


SLOW_CLIENTS = 10
SLOW_HEAD = (
    b"POST /v1/batch HTTP/1.1\r\nHost: relay\r\n"
    b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
)


@contextmanager
def trickling_clients(port: int, count: int):
    """`count` connections sending a body one byte every second (reconnecting when the server gives up)."""
    stopped = threading.Event()

    def trickle() -> None:
        while not stopped.is_set():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                    connection.sendall(SLOW_HEAD)
                    while not stopped.wait(1.0):
                        connection.sendall(b" ")
            except OSError:
                stopped.wait(0.1)

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        yield
    finally:
        stopped.set()
        for thread in threads:
            thread.join()


def report_slow(single: dict, slow: dict) -> None:
    print(f"\nsingle events while {SLOW_CLIENTS} other clients send a body one byte a second:")
    for label, result in (("alone", single), (f"beside {SLOW_CLIENTS} slow clients", slow)):
        print(
            f"  {label:<26} {result['events_per_second']:>6.0f} events/s, p50 {result['p50_ms']:.1f} ms,"
            f" p99 {result['p99_ms']:.1f} ms, {result['failures']} failed"
        )
    print(
        f"  with the slow clients against alone: {slow['p50_ms'] / single['p50_ms']:.2f}x p50,"
        f" {slow['p99_ms'] / single['p99_ms']:.2f}x p99"
    )


def report(single: dict, batch: dict, baselines: dict[int, dict], options: argparse.Namespace) -> None:
    print(f"\ncio-relay ingestion benchmark: {os.cpu_count()} cores, gunicorn {options.workers} workers x "
          f"{options.threads} threads, PostgreSQL, {options.seconds:.0f} s per load")  # fmt: skip
    print("server CPU is milliseconds per request: gunicorn workers and PostgreSQL backends, from /proc")
    header = (
        f"{'load':<30}{'clients':>8}{'requests':>9}{'failed':>7}{'events/s':>10}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'gunicorn':>10}{'postgres':>10}"
    )
    print(header)
    print("-" * len(header))
    for label, result in (("single events (/v1/track)", single), ("100-event batches (/v1/batch)", batch)):
        print(
            f"{label:<30}{result['clients']:>8}{result['requests']:>9}{result['failures']:>7}"
            f"{result['events_per_second']:>10.0f}{result['p50_ms']:>8.1f}{result['p99_ms']:>8.1f}"
            f"{result['gunicorn_cpu_ms']:>10.2f}{result['postgres_cpu_ms']:>10.2f}"
        )
    for baseline in baselines.values():
        label = f"baseline: bare COPY, {baseline['per_transaction']}/txn"
        print(
            f"{label:<30}{baseline['connections']:>8}{'':>16}{baseline['events_per_second']:>10.0f}", end=""
        )
        print(f"{'':>26}{baseline['postgres_cpu_ms_per_event']:>10.3f} (per event)")
    print("\ncost per event relative to the bare COPY of the same rows, committed as the API commits them")
    print("(lower is better):")
    for label, result, events in (("100-event batches", batch, BATCH_SIZE), ("single events", single, 1)):
        baseline = baselines[events]
        rate, copy_cpu = baseline["events_per_second"], baseline["postgres_cpu_ms_per_event"]
        cpu = (result["gunicorn_cpu_ms"] + result["postgres_cpu_ms"]) / events
        print(
            f"  {label + ':':<19} {rate / result['events_per_second']:5.1f}x by throughput,"
            f" {cpu / copy_cpu:5.1f}x by server CPU ({cpu:.3f} ms vs {copy_cpu:.3f} ms per event,"
            f" against {baseline['per_transaction']}/txn)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each load")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--single-clients", type=int, default=16, help="concurrent single-event clients")
    parser.add_argument("--batch-clients", type=int, default=6, help="concurrent batch clients")
    parser.add_argument("--baseline-connections", type=int, default=2, help="concurrent COPY connections")
    parser.add_argument("--baseline-events", type=int, default=50_000, help="events in the COPY baseline")
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/cio_bench_ingest"
    throwaway.split(url)
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
    throwaway.create(url)
    try:
        env = server_env(url, broker, ROOT / "var" / "bench")
        key = prepare_database(env)
        with (
            gunicorn(env, options.workers, options.threads) as (port, master),
            PeakRss({"web": master}) as rss,
        ):
            clients = options.workers * options.threads
            run_load(port, key, "single", 2, 2, max(1, clients // 2))  # warm up: connections, caches
            load = {"port": port, "key": key, "seconds": options.seconds, "processes": 2}
            single_threads = max(1, options.single_clients // 2)
            single = measured_load(master, url, {**load, "kind": "single", "threads": single_threads})
            batch = measured_load(
                master, url, {**load, "kind": "batch", "threads": max(1, options.batch_clients // 2)}
            )
            browser = {
                kind: measured_load(master, url, {**load, "kind": kind, "threads": single_threads})
                for kind in ("browser-event", "source-config", "project-settings")
            }
            with trickling_clients(port, SLOW_CLIENTS):
                slow = measured_load(master, url, {**load, "kind": "single", "threads": single_threads})
        baselines = {
            BATCH_SIZE: run_baseline(url, options.baseline_events, options.baseline_connections, BATCH_SIZE),
            # One event per commit, from as many connections as there were single-event clients.
            1: run_baseline(url, options.baseline_events // 5, options.single_clients, 1),
        }
        report(single, batch, baselines, options)
        report_browser(single, browser)
        report_slow(single, slow)
        print(
            f"\npeak RSS of the web server (gunicorn master and {options.workers} workers): "
            f"{rss.peak['web']:.0f} MB"
        )
    finally:
        throwaway.drop(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
