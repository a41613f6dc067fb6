"""A full disk in embedded mode, end to end: the relay refuses what it cannot store, and recovers by itself.

The whole system as `make run` starts it (supervisord keeping gunicorn, a Celery worker and Celery beat
running) on the embedded defaults, with its data directory (the SQLite database, the broker's folders,
the run files and metrics) on a small tmpfs of its own, delivering to a fake Customer.io. An SDK-like
sender streams events while a filler file takes every free byte of that filesystem for a while, then is
deleted. Nobody steps in: the run must come back by itself.
"""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings

from tests.reliability import report
from tests.reliability.audit import audit, open_deliveries, receipts, stored_events
from tests.reliability.stack import FAULT_SETTINGS, SITES, provision
from tests.reliability.stream import PATIENCE_SECONDS, EventStream
from tests.support import processes
from tests.support.fake_customerio import FakeCustomerIO, running_fake
from tests.support.services import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not settings.EMBEDDED or not settings.CELERY_EMBEDDED_BROKER,
        reason="the embedded system's data directory (runs on the embedded backend)",
    ),
]

# Many times what the run stores (the database, 3.4 MB of the admin's static files, metrics): the filler
# takes the rest.
DISK_MEGABYTES = 64
PEOPLE, PER_PERSON = 100, 20
STREAM_SECONDS = 50
FULL_SECONDS = 20
SETTLE_TIMEOUT = 120
PROGRAMS = ("web", "worker", "beat")


@contextmanager
def small_filesystem(path: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of `megabytes` mounted at `path`, unmounted afterwards."""
    path.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    except FileNotFoundError as error:
        pytest.skip(f"a full-disk run needs a filesystem of its own, and there is no `mount`: {error}")
    if mounted.returncode:
        pytest.skip(f"a full-disk run needs a filesystem of its own; mount -t tmpfs failed: {mounted.stderr}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True, timeout=30).returncode:
            subprocess.run(["umount", "--lazy", str(path)], check=True, timeout=30)  # still busy: detach it


class Filler:
    """One file written until the filesystem is full (ENOSPC), kept full until stop() deletes it: what
    others free (a broker message taken, a WAL checkpointed) the filler takes at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.full = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, name="filler", daemon=True)

    def start(self) -> Filler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.path.unlink(missing_ok=True)

    def _fill(self) -> None:
        chunk = b"\0" * (1 << 20)
        with self.path.open("wb", buffering=0) as file:
            while not self._stop.is_set():
                try:
                    file.write(chunk)
                except OSError as error:
                    if error.errno != errno.ENOSPC:
                        raise
                    self.full.set()
                    chunk = chunk[:4096]
                    time.sleep(0.02)


@dataclass
class ProgramWatch:
    """Every main process supervisord ran for each program, sampled twice a second."""

    make_pid: int
    seen: dict[str, list[int]] = field(default_factory=lambda: {name: [] for name in PROGRAMS})
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> ProgramWatch:
        threading.Thread(target=self._watch, name="program-watch", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def restarts(self) -> dict[str, int]:
        return {name: len(pids) - 1 for name, pids in self.seen.items()}

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            for name, pid in processes.supervised(self.make_pid).items():
                if pid not in self.seen[name]:
                    self.seen[name].append(pid)


@dataclass
class EmbeddedRun:
    """`make run` with its data directory on the small filesystem: what audit.py reads of a run."""

    fake: FakeCustomerIO
    data_dir: Path
    log: Path
    port: int
    write_key: str = ""
    process: subprocess.Popen | None = None
    watch: ProgramWatch | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, sql: str, parameters: Any = None) -> list[tuple]:
        # audit.py's SQL is written with psycopg's placeholders.
        with closing(sqlite3.connect(self.data_dir / "cio_relay.sqlite3", timeout=30)) as connection:
            return connection.execute(sql.replace("%s", "?"), parameters or ()).fetchall()

    def start(self) -> EmbeddedRun:
        env = processes.embedded_env(
            self.data_dir, CIO_RELAY_BIND=f"127.0.0.1:{self.port}",
            CIO_TRACK_URL_US=self.fake.url, CIO_TRACK_URL_EU=self.fake.url, **FAULT_SETTINGS,
        )  # fmt: skip
        self.write_key = provision(env)
        self.process = processes.make_run(env, self.log)
        processes.wait_for_health(f"{self.url}/healthz", self.process, self.log)
        processes.wait_until(
            lambda: (
                set(processes.supervised(self.process.pid)) == set(PROGRAMS)
                and all(marker in self.log.read_text() for marker in (" ready.", "beat: Starting"))
            ),
            timeout=60,
            message=f"web, worker and beat did not all start:\n{self.log.read_text()[-4000:]}",
        )
        self.watch = ProgramWatch(self.process.pid).start()
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Ctrl-C, as a person stops `make run`; whatever is left after that is killed."""
        if self.process is None:
            return
        if self.watch is not None:
            self.watch.stop()
        programs = processes.supervised(self.process.pid)
        commands = {pid: processes.command_line(pid) for pid in programs.values()}
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=150)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        # supervisord gives each program a process group of its own.
        for pid, command in commands.items():
            if processes.command_line(pid) == command:
                os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def embedded_run(tmp_path: Path, request) -> Iterator[EmbeddedRun]:
    with small_filesystem(tmp_path / "data", DISK_MEGABYTES) as data_dir, running_fake() as fake:
        run = EmbeddedRun(fake, data_dir, log=tmp_path / "run.log", port=free_port())
        try:
            yield run.start()
        finally:
            run.stop()
            if getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed:
                print(f"----- make run -----\n{run.output()[-8000:]}")


def times_taken(run: EmbeddedRun) -> Counter:
    """How often Customer.io took each event, per destination: {(site, messageId): times}."""
    return Counter(
        (receipt.site, receipt.message_id) for receipt in receipts(run.fake.requests()) if receipt.taken
    )


def test_a_full_disk_is_refused_with_503_and_the_relay_recovers_by_itself_when_space_returns(embedded_run):
    run = embedded_run
    # Given events streaming in and being delivered, and beat ticking
    stream = EventStream(
        run.url, run.write_key, people=PEOPLE, per_person=PER_PERSON, duration=STREAM_SECONDS
    ).start()
    ledger = stream.ledger
    processes.wait_until(
        lambda: len(ledger.accepted) >= stream.total // 4, timeout=60, message="the stream did not start"
    )
    started = time.monotonic()
    # When the data directory's filesystem fills up, and stays full while the events keep coming
    filler = Filler(run.data_dir / "filler").start()
    try:
        assert filler.full.wait(timeout=30), "the filler never filled the filesystem"
        refused_before = ledger.answers[503]
        time.sleep(FULL_SECONDS)
        refused_while_full = ledger.answers[503] - refused_before
    finally:
        # and then the space returns
        filler.stop()
    stream.join(timeout=STREAM_SECONDS + PATIENCE_SECONDS)
    # Then, with nobody stepping in, every delivery ends within a bounded wait
    processes.wait_until(
        lambda: stored_events(run) >= len(ledger.accepted) and open_deliveries(run) == 0,
        timeout=SETTLE_TIMEOUT,
        message=f"deliveries still open after the disk was freed ({open_deliveries(run)} open)",
        interval=1,
    )
    rows = [audit(run, ledger, "disk full (embedded)", version) for version in SITES]
    taken = times_taken(run)
    twice = sum(1 for count in taken.values() if count == 2)
    thrice = sum(1 for count in taken.values() if count >= 3)
    output = run.output()
    dropped = output.count("that cannot be read")
    missed_ticks = output.count("Message Error: Couldn't apply scheduled task")
    restarts = ", ".join(f"{name} {count}" for name, count in run.watch.restarts().items())
    for figures in rows:
        figures.seconds = time.monotonic() - started
        figures.faults = (
            f"the data directory's {DISK_MEGABYTES} MB filesystem full for {FULL_SECONDS} s from 25% of the "
            f"stream: {ledger.answers[503]} requests answered 503 ({refused_while_full} while full), "
            f"{missed_ticks} beat ticks not sent, {dropped} unreadable broker messages dropped; "
            f"events sent twice {twice}, three times {thrice}; restarts: {restarts}"
        )
    report.collected.extend(rows)
    # The API answered 200, or 503 saying to retry, never a 500 and never a connection cut unanswered
    assert set(ledger.answers) <= {200, 503}, ledger.failures
    assert all('"code": "unavailable"' in body and "retry" in body for _, body in ledger.failures)
    # and the full disk reached every process: the API refused, beat could not send, the worker dropped
    # what beat left half-written
    assert refused_while_full > 0 and missed_ticks > 0 and dropped > 0, rows[0].faults
    # and every event was acknowledged in the end, and each one acknowledged reached Customer.io
    assert ledger.refused == []
    assert ledger.accepted == ledger.sent and len(ledger.accepted) == stream.total
    for figures in rows:
        assert figures.delivered + figures.filtered + figures.failed == figures.accepted, figures
        assert (figures.lost, figures.order_violations, figures.unexplained_duplicates) == (0, 0, 0), figures
        # and an event sent twice carried the same de-duplication id both times: Customer.io ignores it
        assert figures.acted_on_duplicates == 0, figures
    # and none reached it three times
    assert thrice == 0, sorted(message for message, count in taken.items() if count >= 3)[:20]
    # And web, worker and beat are all running, each for some seconds now (not restarting in a loop)
    running = processes.supervised(run.process.pid)
    time.sleep(5)
    assert processes.supervised(run.process.pid) == running and set(running) == set(PROGRAMS), running
    assert requests.get(f"{run.url}/healthz", timeout=5).json()["status"] == "ok"
