"""The README's run command: migrations, an admin login, web + worker + scheduler, all stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response.json()
        except requests.RequestException:  # not listening yet, or still loading the app
            pass
        time.sleep(0.5)
    pytest.fail(f"the system never became healthy; output:\n{log.read_text()[-4000:]}")


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.slow
def test_make_run_starts_everything_on_embedded_defaults_and_ctrl_c_stops_it(tmp_path):
    # Given a fresh data dir and nothing else configured
    port = free_port()
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")
    }
    env.pop("DJANGO_SECRET_KEY", None)
    env.update(CIO_RELAY_DATA_DIR=str(tmp_path / "data"), CIO_RELAY_BIND=f"127.0.0.1:{port}")
    venv = Path(sys.executable).parent.parent
    log = tmp_path / "run.log"
    # When the README's run command starts
    process = subprocess.Popen(
        ["make", "run", f"VENV={venv}"], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        # Then the web server answers healthy, with the database and broker up
        health = wait_for_health(f"http://127.0.0.1:{port}/healthz", process, log)
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
    finally:
        # When Ctrl-C is pressed
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    # Then every process has stopped
    deadline = time.monotonic() + 30
    while group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not group_alive(process.pid), "processes were left running after Ctrl-C"
