"""Benchmark of the delivery engine: `.venv/bin/python bench/delivery.py [--quick]`.

On PostgreSQL and Redis, with a throwaway database it creates and drops, and a fake Customer.io
that answers every request in 50 ms. For v1 and v2 modes and 1, 2 and 4 worker processes
(`celery -A cio_project worker --concurrency 1` each) it prints:

- throughput: a backlog of deliveries inserted at once (as the ingestion API would store them),
  delivered events per second from the doorbell to the last one recorded; for v1 also the request
  rate Customer.io saw against the destination's configured limit;
- latency: events inserted steadily at half of that throughput, ingest-to-delivery time
  (Delivery.finished_at - created_at) at p50 and p99;
- memory: each worker's peak RSS (the Celery process and its pool child) over the case.

Then a backlog of 1,000,000 deliveries (100,000 with --quick) for 2 v2 workers, with each worker's RSS
when 10%, 50% and 100% of it is delivered: it must stay flat, whatever the backlog's size.

Environment: CIO_BENCH_PG (postgres://postgres@127.0.0.1:5432), CIO_BENCH_REDIS_URL
(redis://127.0.0.1:6379/2; its database is flushed), CIO_BENCH_DATABASE (cio_delivery_bench).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import throwaway
from memory import PeakRss

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("CIO_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("CIO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
DATABASE = os.environ.get("CIO_BENCH_DATABASE", "cio_delivery_bench")
DATABASE_URL = f"{PG}/{DATABASE}"
SERVER_DELAY = 0.05
V1_RATE = 100

os.environ.update(
    DATABASE_URL=DATABASE_URL,
    CELERY_BROKER_URL=REDIS_URL,
    DJANGO_SECRET_KEY="benchmark-only-secret-key-0123456789-abcdefghijklmnop",
    CIO_RELAY_DATA_DIR=str(ROOT / "var" / "bench"),
    DJANGO_SETTINGS_MODULE="cio_project.settings",
    LOG_LEVEL="WARNING",
)


def insert(destination, count: int, offset: int = 0, events_per_person: int = 10) -> None:
    """Events and pending deliveries as the ingestion API stores them.

    A backlog has `events_per_person` consecutive events per person (their order is kept); a steady
    stream (events_per_person=0) spreads events over 10,000 people, as many users' SDKs would.
    """
    from django.utils import timezone

    from delivery.models import Delivery, Event

    now = timezone.now()
    source = destination.sources.first()
    events = [
        _event(
            source,
            index,
            f"person-{index // events_per_person if events_per_person else index % 10_000}",
            now,
        )
        for index in range(offset, offset + count)
    ]
    events = Event.objects.bulk_create(events)
    Delivery.objects.bulk_create(
        Delivery(
            event=event,
            destination=destination,
            source=source,
            message_type="track",
            event_name="Order Completed",
            person=event.user_id,
            next_attempt_at=now,
            created_at=now,
        )
        for event in events
    )


def _event(source, index: int, person: str, now):
    from delivery.models import Event

    message = {
        "type": "track",
        "event": "Order Completed",
        "userId": person,
        "messageId": str(uuid.uuid4()),
        "properties": {"order": index, "total": 42.5, "currency": "EUR"},
        "context": {"library": {"name": "bench"}},
    }
    return Event(
        source=source,
        message_id=message["messageId"],
        type="track",
        user_id=person,
        event_name="Order Completed",
        payload=message,
        received_at=now,
    )


def open_count(destination) -> int:
    from delivery.models import Delivery

    return Delivery.objects.filter(destination=destination, status__in=Delivery.OPEN).count()


def wait_delivered(destination, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while open_count(destination) and time.monotonic() < deadline:
        time.sleep(0.1)
    if open_count(destination):
        raise RuntimeError(f"{open_count(destination)} deliveries still open after {timeout} s")


def throughput(destination, fake, count: int) -> dict:
    from django.db.models import Max

    from delivery.engine import doorbell
    from delivery.models import Delivery

    insert(destination, count)
    fake.received.clear()
    started = time.time()
    doorbell.ring([destination.pk], force=True)
    wait_delivered(destination, timeout=600)
    finished = Delivery.objects.filter(destination=destination).aggregate(last=Max("finished_at"))["last"]
    elapsed = finished.timestamp() - started
    times = sorted(request.received_at for request in fake.received)
    request_rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {"events_per_second": count / elapsed, "requests": len(times), "request_rate": request_rate}


def latency(destination, per_second: float, seconds: float) -> dict:
    """Insert `per_second` events for `seconds`, in ticks of 0.1 s, ringing as ingestion does."""
    from delivery.engine import doorbell
    from delivery.models import Delivery

    first_new = (Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    tick, inserted, start = 0.1, 0, time.monotonic()
    while time.monotonic() - start < seconds:
        due = int(per_second * (time.monotonic() - start + tick)) - inserted
        if due > 0:
            insert(destination, due, offset=1_000_000 + inserted, events_per_person=0)
            inserted += due
            doorbell.ring([destination.pk])
        time.sleep(max(0.0, start + (inserted / per_second) - time.monotonic()))
    wait_delivered(destination, timeout=120)
    spans = sorted(
        (finished - created).total_seconds()
        for created, finished in Delivery.objects.filter(id__gte=first_new).values_list(
            "created_at", "finished_at"
        )
    )
    return {
        "events": len(spans),
        "p50": statistics.median(spans),
        "p99": spans[min(len(spans) - 1, int(len(spans) * 0.99))],
    }


def run_case(mode: str, workers: int, fake, log_dir: Path, backlog: int, latency_seconds: float) -> str:
    from delivery.models import Delivery, Event, SentRequest
    from destinations.models import Destination, Source
    from tests.support import processes

    SentRequest.objects.all().delete()
    Delivery.objects.all().delete()
    Event.objects.all().delete()
    source = Source.objects.get_or_create(name="bench")[0]
    destination = Destination.objects.create(
        name=f"bench-{mode}-{workers}-{uuid.uuid4().hex[:6]}",
        site_id="bench-site",
        api_key="bench-api-key-0123456789",
        api_version=mode,
        rate_limit_per_second=V1_RATE,
    )
    destination.sources.add(source)
    env = processes.process_env(fake.url, LOG_LEVEL="WARNING")
    started = [
        processes.worker(log_dir, env, name=f"{mode}-{workers}-{index}").start() for index in range(workers)
    ]
    groups = {process.name: process.process.pid for process in started}
    try:
        with PeakRss(groups) as rss:
            result = throughput(destination, fake, backlog)
            waits = latency(destination, result["events_per_second"] / 2, latency_seconds)
    finally:
        for process in started:
            process.stop()
    line = (
        f"{mode}  workers={workers}  delivered {result['events_per_second']:8.0f} events/s"
        f"  ({backlog} events, {result['requests']} requests)"
        f"  | at {result['events_per_second'] / 2:6.0f} events/s: p50 {waits['p50'] * 1000:6.0f} ms"
        f"  p99 {waits['p99'] * 1000:6.0f} ms"
    )
    if mode == "v1":
        line += f"  | request rate {result['request_rate']:.1f}/s vs limit {V1_RATE}/s"
        line += f" ({(result['request_rate'] / V1_RATE - 1) * 100:+.1f}%)"
    line += f"  | peak RSS per worker {max(rss.peak.values()):.0f} MB"
    return line


def backlog_memory(fake, log_dir: Path, size: int) -> str:
    """2 v2 workers deliver a backlog of `size`; their RSS at 10%, 50% and 100% of it."""
    from delivery.engine import claims, doorbell
    from delivery.models import Delivery, Event, SentRequest
    from destinations.models import Destination, Source
    from tests.support import processes

    SentRequest.objects.all().delete()
    Delivery.objects.all().delete()
    Event.objects.all().delete()
    source = Source.objects.get_or_create(name="bench")[0]
    destination = Destination.objects.create(
        name=f"bench-backlog-{uuid.uuid4().hex[:6]}",
        site_id="bench-site",
        api_key="bench-api-key-0123456789",
        api_version="v2",
    )
    destination.sources.add(source)
    started_insert = time.monotonic()
    for offset in range(0, size, 20_000):
        insert(destination, min(20_000, size - offset), offset=offset)
    inserted_in = time.monotonic() - started_insert
    # As beat's next sweep would (no beat runs here): the claims' plan needs the table's new size.
    claims.refresh_statistics()
    env = processes.process_env(fake.url, LOG_LEVEL="WARNING")
    workers = [processes.worker(log_dir, env, name=f"backlog-{index}").start() for index in range(2)]
    marks: list[str] = []
    try:
        with PeakRss({process.name: process.process.pid for process in workers}) as rss:
            started = time.monotonic()
            doorbell.ring([destination.pk], force=True)
            for fraction in (0.1, 0.5, 1.0):
                while size - open_count(destination) < size * fraction:
                    time.sleep(0.5)
                now = rss.now()
                marks.append(
                    f"{fraction:.0%}: " + ", ".join(f"{rss_mb:.0f}" for rss_mb in now.values()) + " MB"
                )
            elapsed = time.monotonic() - started
    finally:
        for process in workers:
            process.stop()
    return (
        f"backlog of {size:,} (inserted in {inserted_in:.0f} s), 2 v2 workers: delivered in {elapsed:.0f} s "
        f"({size / elapsed:,.0f} events/s); RSS of each worker at {'; '.join(marks)}; peak "
        f"{max(rss.peak.values()):.0f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller backlogs, shorter latency runs")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, comma-separated")
    parser.add_argument("--modes", default="v1,v2", help="comma-separated; empty for the backlog alone")
    parser.add_argument(
        "--backlog", type=int, help="deliveries in the memory run (1,000,000; --quick 100,000)"
    )
    options = parser.parse_args()
    throwaway.create(DATABASE_URL)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from delivery.redis_client import redis_client
    from tests.support.fake_customerio import FakeCustomerIO

    call_command("migrate", verbosity=0)
    redis_client().flushdb()
    fake = FakeCustomerIO(record_bodies=False, default_delay=SERVER_DELAY).start()
    load = os.getloadavg()[0]
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores; fake Customer.io answers in 50 ms")
    try:
        with tempfile.TemporaryDirectory() as log_dir:
            for mode in filter(None, options.modes.split(",")):
                backlog = {"v1": 500 if options.quick else 1500, "v2": 5000 if options.quick else 20000}[mode]
                for workers in (int(count) for count in options.workers.split(",")):
                    line = run_case(mode, workers, fake, Path(log_dir), backlog, 5 if options.quick else 10)
                    print(line, flush=True)
            size = options.backlog or (100_000 if options.quick else 1_000_000)
            print(backlog_memory(fake, Path(log_dir), size), flush=True)
    finally:
        fake.stop()
        connections.close_all()
        throwaway.drop(DATABASE_URL)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
