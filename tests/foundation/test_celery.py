"""`celery -A cio_project worker` and `celery -A cio_project beat` start on both brokers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from cio_project.celery_app import app

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def test_celery_is_configured_for_at_least_once_work():
    # Tasks are acknowledged after they run, come back if the worker dies, one at a time per process
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit is not None


def test_redis_visibility_timeout_outlasts_any_task(tmp_path):
    # Given the Redis broker settings
    redis_env = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/15", "CIO_RELAY_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings as s;"
         "print(s.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'], s.CELERY_TASK_TIME_LIMIT)"],
        cwd=ROOT,
        env={**os.environ, **redis_env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    visibility, task_limit = (int(value) for value in result.stdout.split())
    # Then Redis never hands a running task to another worker
    assert visibility > task_limit


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [CELERY, "-A", "cio_project", *command],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_for_line(log: Path, text: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text():
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"{text!r} never appeared; output:\n{log.read_text()[-3000:]}")


def worker_answers_ping(env: dict[str, str], tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = start(["worker", "--loglevel", "INFO", "--concurrency", "1", "--hostname", "probe@%h"], env, log)
    try:
        wait_for_line(log, "ready.", worker)
        ping = subprocess.run(
            [CELERY, "-A", "cio_project", "inspect", "ping", "--timeout", "10", "--destination",
             f"probe@{os.uname().nodename}"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert "pong" in ping.stdout, ping.stdout + ping.stderr
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")
    }
    env.pop("DJANGO_SECRET_KEY", None)
    return {**env, "CIO_RELAY_DATA_DIR": str(tmp_path / "data")}


@pytest.mark.slow
def test_worker_starts_on_the_embedded_broker_and_answers(tmp_path):
    # Given nothing but the embedded defaults, when a worker starts, then it answers a ping
    worker_answers_ping(embedded_env(tmp_path), tmp_path)


@pytest.mark.slow
@pytest.mark.services
def test_worker_starts_on_redis_and_answers(tmp_path):
    env = {**os.environ, "CIO_RELAY_DATA_DIR": str(tmp_path / "data")}
    assert env["CELERY_BROKER_URL"] == settings.CELERY_BROKER_URL
    worker_answers_ping(env, tmp_path)


@pytest.mark.slow
def test_beat_starts_on_the_embedded_broker(tmp_path):
    log = tmp_path / "beat.log"
    beat = start(["beat", "--loglevel", "INFO"], embedded_env(tmp_path), log)
    try:
        wait_for_line(log, "beat: Starting...", beat)
    finally:
        beat.terminate()
        beat.wait(timeout=30)
