"""Faults end to end: nothing accepted is lost, nothing is sent twice without cause, per-person order holds.

Each scenario sends 20,000 track events from 500 people (seq 0..39 each) through a real gunicorn,
to two destinations (v1 and v2 mode), while something breaks: workers are SIGKILLed, Redis restarts
and is flushed, PostgreSQL restarts, Customer.io answers 500, 429, stalls and 207. After recovery the
run waits until no delivery is open, then compares what the fake Customer.io took with what the
sender was told and what the delivery log says (tests/reliability/audit.py defines each figure).
The figures of every scenario are printed as a table at the end of the pytest run.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator

import pytest

from tests.reliability import report
from tests.reliability.audit import Figures, audit, open_deliveries, stored_events
from tests.reliability.stack import Stack
from tests.reliability.stream import PATIENCE_SECONDS, REJECTED, EventStream, Ledger
from tests.support.fake_customerio import FakeCustomerIO, ReceivedRequest, running_fake
from tests.support.processes import wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow]

PEOPLE, PER_PERSON = 500, 40
SETTLE_TIMEOUT = 600
_databases = itertools.count(1)
Inject = Callable[[Stack, EventStream], str]


def is_v1_rejected(request: ReceivedRequest) -> bool:
    return request.path.startswith("/api/v1/") and (request.json or {}).get("name") == REJECTED


def item_errors(request: ReceivedRequest, fails: Callable[[dict], bool]) -> dict:
    batch = request.json["batch"]
    errors = [
        {"batch_index": index, "reason": "invalid", "field": "name", "message": "refused by the test"}
        for index, item in enumerate(batch)
        if fails(item)
    ]
    return {"errors": errors}


def is_rejected_item(item: dict) -> bool:
    return item.get("name") == REJECTED


def script_customerio(fake: FakeCustomerIO) -> None:
    """Customer.io's standing answers: events named "Rejected" are refused (400 in v1, a 207 item in v2)."""
    fake.answer(400, body={"meta": {"error": "refused by the test"}}, match=is_v1_rejected)
    fake.answer(
        207,
        body=lambda request: item_errors(request, is_rejected_item),
        path="/api/v2/batch",
        match=lambda request: any(map(is_rejected_item, request.json["batch"])),
    )


@pytest.fixture
def stack(servers, tmp_path, request) -> Iterator[Stack]:
    postgres, redis_server, _ = servers
    with running_fake() as fake:
        script_customerio(fake)
        stack = Stack(postgres, redis_server, fake, tmp_path, database=f"faults_{next(_databases)}")
        try:
            yield stack.start()
        finally:
            stack.stop()
            if getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed:
                for name, text in stack.logs().items():
                    print(f"----- {name} -----\n{text[-5000:]}")


def run_scenario(
    stack: Stack, write_key: str, scenario: str, inject: Inject, duration: float
) -> tuple[list[Figures], Ledger]:
    """Stream the events while `inject` breaks things, wait for recovery, audit, and check the promises."""
    started = time.monotonic()
    stream = EventStream(
        stack.url, write_key, people=PEOPLE, per_person=PER_PERSON, duration=duration
    ).start()
    faults = inject(stack, stream)
    stream.join(timeout=duration + PATIENCE_SECONDS)
    ledger = stream.ledger
    wait_until(
        lambda: stored_events(stack) >= len(ledger.accepted) and open_deliveries(stack) == 0,
        timeout=SETTLE_TIMEOUT,
        message=f"deliveries still open after the faults ({open_deliveries(stack)} open)",
        interval=1,
    )
    rows = [audit(stack, ledger, scenario, version) for version in ("v1", "v2")]
    for figures in rows:
        figures.seconds, figures.faults = time.monotonic() - started, faults
    report.collected.extend(rows)
    assert ledger.refused == []
    assert len(ledger.sent) == len(ledger.accepted) == stream.total
    for figures in rows:
        assert figures.delivered + figures.filtered + figures.failed == figures.accepted, figures
        assert (figures.lost, figures.order_violations, figures.unexplained_duplicates) == (0, 0, 0), figures
        assert figures.acted_on_duplicates == 0, figures
    return rows, ledger


def progress(stream: EventStream, fraction: float) -> None:
    """Wait until the API has accepted `fraction` of the stream (a point in the middle of it)."""
    wait_until(
        lambda: len(stream.ledger.accepted) >= fraction * stream.total,
        timeout=PATIENCE_SECONDS,
        message=f"the stream did not reach {fraction:.0%}",
        interval=0.2,
    )


def kill_workers(stack: Stack, stream: EventStream) -> str:
    """SIGKILL one worker (and its children) every 2-5 s, alternating, and start it again at once."""
    kills = 0
    while stream.running:
        time.sleep(random.uniform(2, 5))
        victim = stack.workers[kills % len(stack.workers)]
        victim.kill()
        victim.start(timeout=60)
        kills += 1
    return f"{kills} worker SIGKILLs (every 2-5 s, each restarted at once)"


def restart_then_flush_redis(stack: Stack, stream: EventStream) -> str:
    progress(stream, 0.3)
    stack.redis.kill()
    time.sleep(5)  # the outage: everyone's connections to Redis fail meanwhile
    stack.redis.start()
    progress(stream, 0.65)
    stack.redis.flush()
    return "Redis SIGKILLed at 30% of the stream, down 5 s, restarted empty; FLUSHALL at 65%"


def restart_postgres(stack: Stack, stream: EventStream) -> str:
    progress(stream, 0.4)
    stack.postgres.kill()
    time.sleep(10)  # the outage: the API must answer 503 meanwhile
    stack.postgres.start()
    return "PostgreSQL stopped at 40% of the stream (immediate shutdown: a crash), down 10 s, restarted"


def fail_customerio(stack: Stack, stream: EventStream) -> str:
    """A minute of 500s, a minute of 429s with Retry-After, stalls past the read timeout, then 207s."""
    fake, read_timeout = stack.fake, float(stack.env["CIO_READ_TIMEOUT"])
    fake.answer(500, body={"meta": {"error": "internal error"}}, seconds=60)
    time.sleep(60)
    fake.answer(429, body={"meta": {"error": "slow down"}}, headers={"Retry-After": "2"}, seconds=60)
    time.sleep(60)
    fake.answer(200, delay=read_timeout + 2, seconds=10)
    time.sleep(10)

    def fails(item: dict) -> bool:
        return is_rejected_item(item) or item["attributes"]["seq"] % 5 == 0

    fake.answer(207, body=lambda request: item_errors(request, fails), path="/api/v2/batch", seconds=20)
    return (
        "Customer.io: 500 for 60 s, then 429 (Retry-After: 2) for 60 s, then 10 s of answers after "
        f"{read_timeout + 2:.0f} s (read timeout {read_timeout:.0f} s), "
        "then 20 s of v2 207s failing seq % 5 == 0"
    )


def test_workers_sigkilled_every_few_seconds(servers, stack):
    rows, _ = run_scenario(stack, servers[2], "workers SIGKILLed", kill_workers, duration=60)
    # Then a worker was killed every few seconds all along the stream (run_scenario checked the rest)
    kills = int(rows[0].faults.split()[0])
    assert kills >= 10


def test_redis_restarted_and_flushed(servers, stack):
    run_scenario(stack, servers[2], "Redis restarted+flushed", restart_then_flush_redis, duration=60)


def test_postgresql_restarted(servers, stack):
    rows, ledger = run_scenario(stack, servers[2], "PostgreSQL restarted", restart_postgres, duration=60)
    # Then the API refused (503) or could not be reached while the database was down, and every
    # event it answered 200 is in the database (run_scenario counts any that is not as lost)
    assert rows[0].server_errors + rows[0].connection_errors > 0
    stored = {message for (message,) in stack.query("SELECT message_id FROM delivery_event")}
    assert ledger.accepted <= stored


def test_customerio_failing(servers, stack):
    run_scenario(stack, servers[2], "Customer.io 500/429/stall/207", fail_customerio, duration=160)
    statuses = {request.status for request in stack.fake.requests()}
    assert {500, 429, 207} <= statuses
