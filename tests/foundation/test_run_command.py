"""The README's run command: migrations, an admin login, web + worker + scheduler, all stopped by Ctrl-C."""

from __future__ import annotations

import configparser
import os
import signal
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support import processes
from tests.support.processes import ROOT
from tests.support.services import free_port


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_for_a_sweep(metrics_url: str, log: Path, timeout: float = 30) -> None:
    """Until the worker has run a sweep, as its counters (served by /metrics) show."""
    deadline = time.monotonic() + timeout
    while (
        'cio_relay_sweeper_actions_total{action="destinations_rung"}'
        not in requests.get(metrics_url, timeout=5).text
    ):
        assert time.monotonic() < deadline, f"no sweep ran; output:\n{log.read_text()[-4000:]}"
        time.sleep(0.5)


def test_the_worker_is_given_time_to_finish_its_delivery_runs_when_stopped():
    # Given supervisord's configuration for the worker (settings.py's defaults, which `make run` keeps)
    config = configparser.RawConfigParser(inline_comment_prefixes=(";",))
    config.read(ROOT / "cio_project" / "supervisord.conf")
    worker = config["program:worker"]
    # Then it stops the worker with Celery's warm shutdown, and waits longer than a delivery task runs
    one_request = settings.CIO_CONNECT_TIMEOUT + settings.CIO_READ_TIMEOUT
    longest_run = settings.DELIVERY_TASK_BUDGET_SECONDS + one_request
    assert worker.get("stopsignal", "TERM") == "TERM"
    assert int(worker["stopwaitsecs"]) > longest_run
    # and only each main process is signalled, so it stops its own children (a TERM straight to Celery's
    # pool processes or gunicorn's workers would cut their work short); killed as a group only if stuck
    for program in ("web", "worker", "beat"):
        assert config[f"program:{program}"]["stopasgroup"] == "false"
        assert config[f"program:{program}"]["killasgroup"] == "true"


@pytest.mark.slow
def test_make_run_starts_everything_on_embedded_defaults_and_ctrl_c_stops_it(tmp_path):
    # Given a fresh data dir and nothing else configured
    port = free_port()
    data_dir = tmp_path / "data"
    env = processes.embedded_env(data_dir, CIO_RELAY_BIND=f"127.0.0.1:{port}")
    log = tmp_path / "run.log"
    # When the README's run command starts
    process = processes.make_run(env, log)
    try:
        # Then the web server answers healthy, with the database and broker up
        health = processes.wait_for_health(f"http://127.0.0.1:{port}/healthz", process, log)
        assert health == {"status": "ok", "database": "ok", "broker": "ok"}
        # and the admin login page is served with its styles
        assert requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=5).status_code == 200
        assert (
            requests.get(f"http://127.0.0.1:{port}/static/admin/css/base.css", timeout=5).status_code == 200
        )
        # and the worker and scheduler are up
        deadline = time.monotonic() + 60
        while not all(marker in log.read_text() for marker in ("ready.", "beat: Starting...")):
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.5)
        output = log.read_text()
        assert "Admin login created: user 'admin', password " in output
        # and gunicorn's control socket is in the data directory, not the user's home
        assert (data_dir / "gunicorn.ctl").is_socket()
        assert f"Control socket listening at {data_dir}/gunicorn.ctl" in output
        # and beat has sent a sweep or two, which left no routine line in the log
        wait_for_a_sweep(f"http://127.0.0.1:{port}/metrics", log)
        output = log.read_text()
        assert "Task delivery.tasks.sweep[" not in output and "Sending due task delivery-sweep" not in output
    finally:
        # When Ctrl-C is pressed
        stopped_at = len(log.read_text())
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=150)
    # Then each process stopped gracefully: no error, no traceback, nothing killed
    stopping = log.read_text()[stopped_at:]
    for alarm in ("SIGKILL", "Traceback", " ERROR ", "WorkerLostError", "*** ["):
        assert alarm not in stopping, stopping
    assert "Warm shutdown" in stopping and "Shutting down: Master" in stopping, stopping
    # and make ended quietly, of the Ctrl-C itself (as a program that was interrupted does) or with 0
    assert process.returncode in (0, -signal.SIGINT), stopping
    # Then every process has stopped
    deadline = time.monotonic() + 30
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not group_alive(process.pid), "processes were left running after Ctrl-C"
