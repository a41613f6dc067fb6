"""Run the test suite on every backend this machine has: `python tests/run.py [--backend B] [pytest args]`.

- services: PostgreSQL and Redis (127.0.0.1 by default), when both are reachable;
- embedded: SQLite and the filesystem broker, always.

Both runs must pass, so a break in either path shows. Tests marked `services` need PostgreSQL and
Redis and are skipped (and listed as skipped) on the embedded run. Environment knobs, for running
several checkouts side by side: CIO_TEST_PG_HOST/PORT/USER, CIO_TEST_DATABASE_NAME, CIO_TEST_REDIS_URL.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = os.environ.get("CIO_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("CIO_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("CIO_TEST_PG_USER", "postgres")
DATABASE_NAME = os.environ.get("CIO_TEST_DATABASE_NAME", "cio_relay")
REDIS_URL = os.environ.get("CIO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_SECRET_KEY = "test-only-secret-key-not-used-outside-the-test-suite-0123456789"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def redis_host_port(url: str) -> tuple[str, int]:
    netloc = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = netloc.partition(":")
    return host or "127.0.0.1", int(port or 6379)


def backend_env(backend: str) -> dict[str, str]:
    overridden = ("DATABASE_URL", "CELERY_BROKER_URL")
    env = {key: value for key, value in os.environ.items() if key not in overridden}
    env["DJANGO_SECRET_KEY"] = TEST_SECRET_KEY
    env["CIO_TEST_BACKEND"] = backend
    env["CIO_RELAY_DATA_DIR"] = str(ROOT / "var" / f"test-{backend}")
    if backend == "services":
        env["DATABASE_URL"] = f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{DATABASE_NAME}"
        env["CELERY_BROKER_URL"] = REDIS_URL
    return env


def available_backends() -> list[str]:
    backends = []
    if reachable(PG_HOST, PG_PORT) and reachable(*redis_host_port(REDIS_URL)):
        backends.append("services")
    else:
        print(f"tests/run.py: PostgreSQL ({PG_HOST}:{PG_PORT}) or Redis not reachable; embedded run only")
    backends.append("embedded")
    return backends


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["services", "embedded", "all"], default="all")
    options, pytest_args = parser.parse_known_args()
    if pytest_args[:1] == ["--"]:
        pytest_args = pytest_args[1:]
    backends = available_backends() if options.backend == "all" else [options.backend]
    results = {}
    for backend in backends:
        print(f"\n===== tests on the {backend} backend =====", flush=True)
        command = [sys.executable, "-m", "pytest", *pytest_args]
        results[backend] = subprocess.call(command, cwd=ROOT, env=backend_env(backend))
    print("\n===== summary =====")
    for backend, code in results.items():
        # pytest's exit code 5 ("no tests collected") is a failure too.
        print(f"{backend}: {'passed' if code == 0 else f'FAILED (pytest exit {code})'}")
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
