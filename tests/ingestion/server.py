"""A real gunicorn serving the test database, for tests that talk HTTP from another client library."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.processes import GUNICORN_CONFIG

ROOT = Path(__file__).resolve().parents[2]
# Request path, Content-Encoding and status of every request, one line each.
ACCESS_LOG_FORMAT = "%(U)s|%({content-encoding}i)s|%(s)s"


def database_url(settings_dict: dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    host, port = settings_dict.get("HOST") or "127.0.0.1", settings_dict.get("PORT") or 5432
    return f"postgres://{settings_dict['USER']}@{host}:{port}/{settings_dict['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start listening")


@contextmanager
def gunicorn(settings_dict: dict, access_log: Path) -> Iterator[str]:
    """Serve the project on a free port until the block ends; yields the base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(settings_dict), "WEB_THREADS": "4"}
    command = [
        *(sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG), "--bind", f"127.0.0.1:{port}"),
        *("--workers", "1", "--log-level", "warning"),
        *("--access-logfile", str(access_log), "--access-logformat", ACCESS_LOG_FORMAT),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
