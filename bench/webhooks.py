"""Reporting webhook benchmark: Customer.io's posts stored per second, and their latency, under gunicorn
on PostgreSQL.

    .venv/bin/python bench/webhooks.py [--seconds 15] [--rate 1000]

The database named in DATABASE_URL (default postgres://postgres@127.0.0.1:5432/cio_bench_webhooks) is
created, migrated and dropped at the end: give a throwaway name. Customer.io waits 4 seconds for an
answer, so what matters is the latency at the rate Customer.io posts. Two loads run against gunicorn
(2 workers x 4 threads), each post a signed email event of about 700 bytes with its own event_id:

- at capacity: concurrent keep-alive clients post as fast as they are answered (posts/s, p50, p99);
- at a fixed rate (--rate, 1,000/s by default): posts are sent on a schedule, and each one's latency
  is counted from when it was due, so a server that falls behind shows it in the p99 instead of
  slowing the load down. The target is p99 under 200 ms at 1,000 posts/s.

In the same run a baseline inserts the same rows with one INSERT and commit per row over as many
connections as there were clients, so the endpoint's cost is printed as a ratio of the bare insert.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import throwaway
from ingestion import cpu_seconds, gunicorn, server_env, server_pids

ROOT = Path(__file__).resolve().parent.parent
SIGNING_KEY = "bench5191edbench5191ed"
TARGET_P99_MS = 200.0


def body(event_id: str) -> bytes:
    """An email bounce as Customer.io posts it."""
    return json.dumps(
        {
            "event_id": event_id,
            "object_type": "email",
            "metric": "bounced",
            "timestamp": int(time.time()),
            "data": {
                "customer_id": f"user-{event_id[-5:]}",
                "identifiers": {
                    "id": f"user-{event_id[-5:]}",
                    "email": f"person{event_id[-5:]}@example.com",
                    "cio_id": f"cio{event_id[-5:]}",
                },
                "email_address": f"person{event_id[-5:]}@example.com",
                "recipient": f"person{event_id[-5:]}@example.com",
                "delivery_id": f"RPILAgABcRhIBqSp7kiPekG{event_id[-5:]}",
                "campaign_id": 5,
                "action_id": 36,
                "journey_id": "01GW20GXAAXBKZD8J96M8FNV3R",
                "subject": "Welcome to the product",
                "failure_message": "550 5.1.1 The email account that you tried to reach does not exist",
            },
        }
    ).encode()


def headers(payload: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = hmac.new(SIGNING_KEY.encode(), b"v0:" + stamp.encode() + b":" + payload, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-CIO-Timestamp": stamp,
        "X-CIO-Signature": signature.hexdigest(),
    }


@dataclass
class LoadResult:
    stored: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)


def client_thread(
    port: int, path: str, deadline: float, interval: float | None, name: str, result: LoadResult
) -> None:
    """Post until the deadline: back to back, or one post every `interval` seconds on a fixed schedule."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    counter = 0
    due = time.perf_counter()
    while time.monotonic() < deadline:
        counter += 1
        payload = body(f"{name}-{counter:05d}")
        if interval is not None:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        started = due if interval is not None else time.perf_counter()
        connection.request("POST", path, payload, headers(payload))
        response = connection.getresponse()
        response.read()
        result.latencies.append(time.perf_counter() - started)
        if response.status == 200:
            result.stored += 1
        else:
            result.failures += 1
        due += interval or 0.0
    connection.close()


def client_process(args: tuple) -> LoadResult:
    port, path, seconds, threads, interval, process_name = args
    deadline = time.monotonic() + seconds
    results = [LoadResult() for _ in range(threads)]
    workers = [
        threading.Thread(
            target=client_thread,
            args=(port, path, deadline, interval, f"{process_name}-{index}", results[index]),
        )
        for index in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    merged = LoadResult()
    for result in results:
        merged.stored += result.stored
        merged.failures += result.failures
        merged.latencies += result.latencies
    return merged


def run_load(port: int, path: str, seconds: float, processes: int, threads: int, rate: float | None) -> dict:
    run_id = secrets.token_hex(4)
    interval = processes * threads / rate if rate else None
    jobs = [(port, path, seconds, threads, interval, f"{run_id}-{index}") for index in range(processes)]
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        results = pool.map(client_process, jobs)
    elapsed = time.monotonic() - started
    latencies = sorted(latency for result in results for latency in result.latencies)
    return {
        "clients": processes * threads,
        "posts": len(latencies),
        "failures": sum(result.failures for result in results),
        "posts_per_second": sum(result.stored for result in results) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99) - 1],
    }


def measured_load(master: int, url: str, **load) -> dict:
    """Run a load and add the server's CPU milliseconds per post (gunicorn, PostgreSQL) to its figures."""
    before = {
        name: {pid: cpu_seconds([pid]) for pid in group} for name, group in server_pids(master, url).items()
    }
    result = run_load(**load)
    for name, group in server_pids(master, url).items():
        spent = sum(cpu_seconds([pid]) - before[name].get(pid, 0.0) for pid in group)
        result[f"{name}_cpu_ms"] = 1000 * spent / max(1, result["posts"])
    return result


SETUP = f"""
from destinations.models import Destination
destination = Destination.objects.create(
    name="Customer.io bench", site_id="site", api_key="0123456789abcdef0123",
    webhook_signing_key="{SIGNING_KEY}",
)
print(destination.pk, destination.webhook_path())
"""


def prepare_database(env: dict[str, str]) -> tuple[int, str]:
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True)
    output = subprocess.run(
        [*manage, "shell", "--command", SETUP], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    destination_id, path = output.stdout.strip().splitlines()[-1].split()
    return int(destination_id), path


INSERT = """
INSERT INTO delivery_messageactivity (destination_id, event_id, object_type, metric, occurred_at, received_at,
  customer_id, cio_id, email, recipient, cio_delivery_id, campaign_id, action_id, broadcast_id, newsletter_id,
  transactional_message_id, message_name, reason, raw_body)
VALUES (%s, %s, 'email', 'bounced', now(), now(), %s, %s, %s, %s, %s, '5', '36', '', '', '', %s, %s, %s)
ON CONFLICT (destination_id, event_id) DO NOTHING
"""


def baseline_worker(url: str, destination_id: int, prefix: str, count: int, latencies: list[float]) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        for index in range(count):
            event_id = f"{prefix}-{index:05d}"
            payload = body(event_id)
            started = time.perf_counter()
            with connection.transaction():
                connection.execute(
                    INSERT,
                    (
                        destination_id, event_id, f"user-{index}", f"cio{index}", f"p{index}@example.com",
                        f"p{index}@example.com", f"RPIL{index}", "Welcome to the product",
                        "550 5.1.1 mailbox does not exist", payload.decode(),
                    ),
                )  # fmt: skip
            latencies.append(time.perf_counter() - started)


def run_baseline(url: str, destination_id: int, rows: int, connections: int) -> dict:
    latencies: list[list[float]] = [[] for _ in range(connections)]
    prefix = secrets.token_hex(4)
    threads = [
        threading.Thread(
            target=baseline_worker,
            args=(url, destination_id, f"{prefix}-{index}", rows // connections, latencies[index]),
        )
        for index in range(connections)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {"rows_per_second": sum(len(group) for group in latencies) / elapsed}


def report(capacity: dict, paced: dict, baseline: dict, rate: float, stored: int) -> None:
    print("\ncio-relay reporting webhook benchmark: gunicorn (2 workers x 4 threads), PostgreSQL")
    print(
        f"at capacity ({capacity['clients']} clients): {capacity['posts_per_second']:,.0f} posts/s, "
        f"p50 {capacity['p50_ms']:.1f} ms, p99 {capacity['p99_ms']:.1f} ms, {capacity['failures']} not 200; "
        f"{baseline['rows_per_second']:,.0f} rows/s for the bare one-row INSERT and commit "
        f"({baseline['rows_per_second'] / capacity['posts_per_second']:.1f}x the endpoint's rate)"
    )
    verdict = "yes" if paced["p99_ms"] < TARGET_P99_MS and paced["failures"] == 0 else "NO"
    print(
        f"at {rate:,.0f} posts/s ({paced['clients']} clients, latency from when each post was due): "
        f"{paced['posts_per_second']:,.0f} posts/s stored, p50 {paced['p50_ms']:.1f} ms, "
        f"p99 {paced['p99_ms']:.1f} ms, {paced['failures']} not 200; "
        f"p99 under {TARGET_P99_MS:.0f} ms: {verdict}"
    )
    print(
        f"server CPU per post at capacity: {capacity['gunicorn_cpu_ms']:.2f} ms gunicorn + "
        f"{capacity['postgres_cpu_ms']:.2f} ms PostgreSQL (the machine is shared with the load generator)"
    )
    print(f"rows stored: {stored:,}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each load")
    parser.add_argument("--rate", type=float, default=1000.0, help="posts per second of the fixed-rate load")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--baseline-rows", type=int, default=10_000, help="rows in the INSERT baseline")
    options = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/cio_bench_webhooks"
    throwaway.split(url)
    broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
    throwaway.create(url)
    try:
        env = server_env(url, broker, ROOT / "var" / "bench")
        destination_id, path = prepare_database(env)
        threads = max(1, options.clients // 2)
        with gunicorn(env, 2, 4) as (port, master):
            run_load(port, path, 2, 2, threads, None)  # warm up: connections, caches
            load = {
                "port": port,
                "path": path,
                "seconds": options.seconds,
                "processes": 2,
                "threads": threads,
            }
            capacity = measured_load(master, url, **load, rate=None)
            paced = measured_load(master, url, **load, rate=options.rate)
        baseline = run_baseline(url, destination_id, options.baseline_rows, options.clients)
        with psycopg.connect(url) as connection:
            (stored,) = connection.execute("SELECT count(*) FROM delivery_messageactivity").fetchone()
        report(capacity, paced, baseline, options.rate, stored)
    finally:
        throwaway.drop(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
