"""Real `celery -A cio_project worker` and `beat` processes for end-to-end tests and benchmarks.

They run against the database and broker the tests use (pytest-django's test database), with the
Customer.io base URLs pointed at a fake server. Each process runs in its own process group, so
kill() takes down a prefork worker and its children at once, as a machine dying would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def database_url() -> str:
    """The URL of the database this process uses now (the test database, inside a test)."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    credentials = config["USER"] + (f":{config['PASSWORD']}" if config.get("PASSWORD") else "")
    return f"postgres://{credentials}@{config['HOST']}:{config['PORT'] or 5432}/{config['NAME']}"


def process_env(fake_url: str | None = None, **overrides: Any) -> dict[str, str]:
    """The environment for a worker or beat: this test's database and broker, plus `overrides`."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["DJANGO_SECRET_KEY"] = settings.SECRET_KEY
    env["CIO_RELAY_DATA_DIR"] = str(settings.DATA_DIR)
    if fake_url:
        env["CIO_TRACK_URL_US"] = env["CIO_TRACK_URL_EU"] = fake_url
    env.update({name: str(value) for name, value in overrides.items()})
    return env


class ChildProcess:
    """One command as a child process in its own process group, its output in a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path, ready_text: str) -> None:
        self.command = command
        self.env = env
        self.log_path = log_path
        self.ready_text = ready_text
        self.process: subprocess.Popen | None = None

    @property
    def name(self) -> str:
        return self.log_path.stem

    def start(self, timeout: float = 30.0) -> ChildProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        wait_until(
            lambda: self.ready_text in self.log() or not self.alive,
            timeout=timeout,
            message=f"{self.name} did not start",
        )
        if not self.alive:
            raise RuntimeError(f"{self.name} exited at start:\n{self.log()[-3000:]}")
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the whole process group (SIGKILL: no cleanup, like a machine dying)."""
        if self.alive:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


class CeleryProcess(ChildProcess):
    """`celery -A cio_project <arguments>`."""

    def __init__(self, arguments: list[str], env: dict[str, str], log_path: Path, ready_text: str) -> None:
        super().__init__(
            [sys.executable, "-m", "celery", "-A", "cio_project", *arguments], env, log_path, ready_text
        )
        self.arguments = arguments


def worker(log_dir: Path, env: dict[str, str], name: str = "worker", concurrency: int = 1) -> CeleryProcess:
    arguments = [
        "worker",
        f"--hostname={name}@%h",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
    ]
    return CeleryProcess(arguments, env, log_dir / f"{name}.log", ready_text=" ready.")


def beat(log_dir: Path, env: dict[str, str], name: str = "beat") -> CeleryProcess:
    arguments = ["beat", f"--schedule={log_dir / (name + '-schedule')}", "--loglevel=INFO"]
    return CeleryProcess(arguments, env, log_dir / f"{name}.log", ready_text="beat: Starting")


GUNICORN_CONFIG = Path(__file__).resolve().parents[2] / "cio_project" / "gunicorn.conf.py"


def web(log_dir: Path, env: dict[str, str], port: int, workers: int = 2, threads: int = 4) -> ChildProcess:
    """gunicorn serving the project as `make run` does, its log (and Django's) in `web.log`."""
    command = [
        *(sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG)),
        *("--bind", f"127.0.0.1:{port}", "--access-logfile", "-"),
        *("--workers", str(workers), "--log-level", "info"),
        *("--graceful-timeout", "10", "--timeout", "120"),
    ]
    env = {**env, "WEB_THREADS": str(threads)}
    return ChildProcess(command, env, log_dir / "web.log", ready_text="Booting worker")


def wait_until(condition: Callable[[], Any], *, timeout: float, message: str, interval: float = 0.1) -> Any:
    """Poll `condition` until it returns something true; fail with `message` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} (waited {timeout} s)")
        time.sleep(interval)


def purge_broker() -> None:
    """Drop queued task messages left by earlier tests, so a new worker starts from a clean queue."""
    from cio_project.celery_app import app

    app.control.purge()


# --- `make run`: the whole embedded system under supervisord --------------------------------------


def embedded_env(data_dir: Path, **overrides: Any) -> dict[str, str]:
    """This environment with nothing of the test backend's (no DATABASE_URL, broker URL or secret key),
    its data in `data_dir`, plus `overrides`: what `make run` and `manage.py` see on a fresh install."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY")
    }
    env["CIO_RELAY_DATA_DIR"] = str(data_dir)
    env.update({name: str(value) for name, value in overrides.items()})
    return env


def make_run(env: dict[str, str], log: Path) -> subprocess.Popen:
    """The README's `make run`, in its own process group, its output in `log`.

    It runs in the virtualenv this suite runs in, which `make test` installed: make's install step is
    taken as done, so a test never reinstalls packages into the environment it runs in."""
    venv = Path(sys.executable).parent.parent
    return subprocess.Popen(
        ["make", "run", f"VENV={venv}", f"--assume-old={venv}/.runtime"], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def wait_for_health(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> dict:
    """Until GET `url` (/healthz) answers 200; fails with the end of `log` if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response.json()
        except requests.RequestException:  # not listening yet, or still loading the app
            pass
        time.sleep(0.5)
    raise AssertionError(f"the system never became healthy; output:\n{log.read_text()[-4000:]}")


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except (FileNotFoundError, ProcessLookupError):
        return []


def supervised(make_pid: int) -> dict[str, int]:
    """The main process of each program supervisord runs under `make run` (cio_project/supervisord.conf),
    by program name: {"web": pid, "worker": pid, "beat": pid}, without the ones not running now."""
    programs: dict[str, int] = {}
    supervisors = [pid for pid in children(make_pid) if "supervisord" in " ".join(command_line(pid))]
    for pid in (child for supervisor in supervisors for child in children(supervisor)):
        argv = command_line(pid)
        if any(Path(argument).name == "gunicorn" for argument in argv[:2]):
            programs["web"] = pid
        elif "celery" in " ".join(argv[:2]):
            programs.update({name: pid for name in ("worker", "beat") if name in argv})
    return programs
