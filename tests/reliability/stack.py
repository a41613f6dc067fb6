"""The whole system as a deployment runs it, on private servers a fault test may kill.

gunicorn (the ingestion API, 2 processes), two `celery -A cio_project worker` processes and one
`celery -A cio_project beat`, all on a private PostgreSQL and Redis, delivering to a fake Customer.io.
One template database holds the schema, a source and two destinations (a v1 and a v2 one); each
scenario gets its own copy of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.support import processes
from tests.support.fake_customerio import FakeCustomerIO
from tests.support.services import PrivatePostgres, PrivateRedis, free_port

TEMPLATE = "cio_template"
SOURCE = "fault stream"
# Credentials of the right shape (validators) that tell the two destinations apart at the fake.
SITES = {"v1": "siteversionone", "v2": "siteversiontwo"}
API_KEYS = {"v1": "0123456789abcdef0123", "v2": "fedcba9876543210fedc"}
DENYLISTED = "Ignored"
# Short waits so recovery takes seconds, not minutes; the retry horizon keeps its default (3 h), so
# nothing fails for having waited.
FAULT_SETTINGS = {
    "DELIVERY_RETRY_BASE_SECONDS": 0.5,
    "DELIVERY_RETRY_MAX_SECONDS": 5,
    "DELIVERY_SWEEP_INTERVAL_SECONDS": 1,
    "DELIVERY_CLAIM_TIMEOUT_SECONDS": 10,
    "CIO_CONNECT_TIMEOUT": 1,
    "CIO_READ_TIMEOUT": 2,
    "LOG_LEVEL": "INFO",
}
# The v1 destination's request rate: above what this machine can send, so the run is not paced by it.
V1_RATE_LIMIT = 2000


def manage(env: dict[str, str], *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=processes.ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"manage.py {arguments[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def provision(env: dict[str, str]) -> str:
    """Migrate the database `env` names and add the source and both destinations; returns the write key."""
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    write_key = json.loads(manage(env, "add_source", SOURCE, "--json"))["write_key"]
    for version in ("v1", "v2"):
        manage(
            env, "add_destination", "--name", f"Customer.io {version}", "--site-id", SITES[version],
            "--api-key", API_KEYS[version], "--source", SOURCE, "--api-version", version,
            "--event-filter", "deny", "--event", DENYLISTED, "--json",
        )  # fmt: skip
    return write_key


def build_template(postgres: PrivatePostgres, redis_url: str) -> str:
    """Create the template database with its source and destinations; returns the write key."""
    env = processes.process_env(
        None, DATABASE_URL=postgres.create_database(TEMPLATE), CELERY_BROKER_URL=redis_url
    )
    write_key = provision(env)
    with psycopg.connect(f"{postgres.url}/{TEMPLATE}", autocommit=True) as connection:
        connection.execute(
            "UPDATE destinations_destination SET rate_limit_per_second = %s WHERE api_version = 'v1'",
            [V1_RATE_LIMIT],
        )
    return write_key


@dataclass
class Stack:
    postgres: PrivatePostgres
    redis: PrivateRedis
    fake: FakeCustomerIO
    log_dir: Path
    database: str

    def __post_init__(self) -> None:
        self.database_url = self.postgres.create_database(self.database, template=TEMPLATE)
        self.env = processes.process_env(
            self.fake.url, DATABASE_URL=self.database_url, CELERY_BROKER_URL=self.redis.url, **FAULT_SETTINGS
        )
        self.port = free_port()
        self.web = processes.web(self.log_dir, self.env, self.port)
        self.workers = [processes.worker(self.log_dir, self.env, name=f"worker{index}") for index in (1, 2)]
        self.beat = processes.beat(self.log_dir, self.env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def everything(self) -> list[processes.ChildProcess]:
        return [self.web, *self.workers, self.beat]

    def start(self) -> Stack:
        for process in self.everything:
            process.start(timeout=60)
        return self

    def stop(self) -> None:
        for process in self.everything:
            process.stop()

    def logs(self) -> dict[str, str]:
        return {process.name: process.log() for process in self.everything}

    def query(self, sql: str, parameters: Any = None) -> list[tuple]:
        with psycopg.connect(self.database_url, connect_timeout=5) as connection:
            return connection.execute(sql, parameters).fetchall()
