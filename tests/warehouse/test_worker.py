"""A warehouse source synced by Celery beat and a real worker, a sync SIGKILLed in the middle, and the
command's progress bar on a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

from destinations.warehouse.models import SyncRun
from tests.engine.conftest import celery  # noqa: F401 (the fixture)
from tests.support import processes
from tests.warehouse.helpers import (
    batching_destination,
    deliver_everything,
    make_warehouse_source,
    received_people,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_beat_runs_a_due_source_and_the_worker_delivers_its_rows(sqlite_warehouse, fake, celery):  # noqa: F811
    # Given a warehouse source due to sync (it never ran), and Celery beat and a worker running
    sqlite_warehouse.people(300)
    destination = batching_destination()
    source = make_warehouse_source(sqlite_warehouse.url, destination, every_minutes=60)
    celery.worker(fake)
    celery.beat(fake, WAREHOUSE_SCHEDULE_SECONDS=1)
    # Then beat starts one run, which stores the rows, and the worker delivers them
    processes.wait_until(
        lambda: len(received_people(fake)) >= 300, timeout=60, message="the rows never arrived"
    )
    run = processes.wait_until(
        lambda: SyncRun.objects.filter(state="succeeded").first(),
        timeout=30,
        message="the run never finished",
    )
    assert (run.warehouse_source_id, run.rows_new) == (source.pk, 300)
    # And the source is not due again for an hour: beat starts no second run
    time.sleep(3)
    assert SyncRun.objects.count() == 1
    assert len(received_people(fake)) == 300


def test_a_sigkilled_run_restarted_sends_each_changed_row_once(warehouse, fake, settings):
    # Given 10,000 people synced, then 1,000 of them changed (every tenth)
    warehouse.people(10_000)
    destination = batching_destination()
    source = make_warehouse_source(warehouse.url, destination)
    from delivery.warehouse.sync import sync

    sync(source)
    deliver_everything(destination)
    warehouse.execute("UPDATE people SET plan = 'pro' WHERE MOD(id, 10) = 0")
    fake.received.clear()
    # When `sync_warehouse` is SIGKILLed part-way through (small chunks, so it is mid-run)
    env = processes.process_env(fake.url, WAREHOUSE_CHUNK_ROWS=20)
    command = [sys.executable, "manage.py", "sync_warehouse", source.name]
    child = subprocess.Popen(
        command, env=env, cwd=processes.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        processes.wait_until(
            lambda: (
                SyncRun.objects.filter(state="running", rows_changed__gte=200).exists()
                or child.poll() is not None
            ),
            timeout=60,
            message="the sync never got going",
            interval=0.01,
        )
    finally:
        child.send_signal(signal.SIGKILL)
        _, errors = child.communicate()
    killed = SyncRun.objects.get(dry_run=False, pk__gt=SyncRun.objects.order_by("id").first().pk)
    assert killed.state == "running", errors
    assert 200 <= killed.rows_changed < 1000
    # And it is started again once the killed run's heartbeat is stale
    settings.WAREHOUSE_RUN_STALE_SECONDS = 1
    time.sleep(1.1)
    resumed = sync(source)
    deliver_everything(destination)
    # Then each changed row reached Customer.io exactly once, and nothing else did
    assert resumed.state == "succeeded"
    assert killed.rows_changed + resumed.rows_changed == 1000
    updates = sorted(int(person_id) for _, person_id, _ in received_people(fake))
    assert updates == list(range(10, 10_001, 10))
    killed.refresh_from_db()
    assert killed.state == "failed" and killed.error.startswith("interrupted")


def test_on_a_terminal_sync_warehouse_draws_a_progress_bar_then_prints_a_summary(sqlite_warehouse, fake):
    # Given a source of 3,000 people, read 1,000 rows a chunk
    sqlite_warehouse.people(3_000)
    source = make_warehouse_source(sqlite_warehouse.url, batching_destination())
    # When sync_warehouse runs on a terminal 100 columns wide
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    command = [sys.executable, "manage.py", "sync_warehouse", source.name]
    env = processes.process_env(fake.url, WAREHOUSE_CHUNK_ROWS=1000)
    child = subprocess.Popen(command, env=env, cwd=processes.ROOT, stdout=terminal, stderr=terminal)
    os.close(terminal)
    screen = b""
    while True:
        try:
            data = os.read(controller, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        screen += data
    os.close(controller)
    # Then the bar grew chunk by chunk to the total, and the summary line came last
    assert child.wait(timeout=30) == 0
    frames = [
        frame.strip() for frame in screen.decode().replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    bars = [frame for frame in frames if "|" in frame and "rows/s" in frame]
    assert any("1000/3000" in bar and " 33%|" in bar for bar in bars), bars
    assert "3000/3000" in bars[-1] and "100%|" in bars[-1]
    assert [frame for frame in frames if frame][-1].endswith(
        "3000 new, 0 changed, 0 removed, 0 unchanged, 0 failed; 3000 events stored"
    )


def test_a_failing_sync_warehouse_says_why_in_one_line_on_stderr_and_exits_2(sqlite_warehouse, fake):
    # Given a source whose query names a table that does not exist
    source = make_warehouse_source(
        sqlite_warehouse.url, batching_destination(), query="SELECT id FROM no_such_table"
    )
    # When sync_warehouse runs from a script (no terminal)
    done = subprocess.run(
        [sys.executable, "manage.py", "sync_warehouse", source.name],
        env=processes.process_env(fake.url),
        cwd=processes.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then it exits 2 with the database's words in one line on stderr, and nothing on stdout
    run = SyncRun.objects.get()
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [f"CommandError: run {run.pk} failed: no such table: no_such_table"]
