"""Fixtures for the delivery engine's tests: real Celery workers and beat with settings that make
retries, sweeps and stale claims happen within a test's patience."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import processes
from tests.support.fake_customerio import FakeCustomerIO

# Worker settings that make retries, sweeps and stale claims happen within a test's patience.
FAST_WORKER = {
    "DELIVERY_RETRY_BASE_SECONDS": 0.3,
    "DELIVERY_RETRY_MAX_SECONDS": 2,
    "DELIVERY_SWEEP_INTERVAL_SECONDS": 0.5,
    "DELIVERY_CLAIM_TIMEOUT_SECONDS": 4,
    "CIO_READ_TIMEOUT": 1,
    "CIO_CONNECT_TIMEOUT": 1,
}


@pytest.fixture
def celery(tmp_path: Path, request) -> Iterator[CeleryFactory]:
    """Start workers and beat with `celery.worker(fake, **settings)`; all are stopped afterwards."""
    factory = CeleryFactory(tmp_path)
    processes.purge_broker()
    yield factory
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    factory.stop_all(print_logs=failed)


class CeleryFactory:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[processes.CeleryProcess] = []

    def worker(self, fake: FakeCustomerIO, name: str = "worker", **overrides: Any) -> processes.CeleryProcess:
        env = processes.process_env(fake.url, **{**FAST_WORKER, **overrides})
        return self._start(processes.worker(self.log_dir, env, name=name))

    def beat(self, fake: FakeCustomerIO, **overrides: Any) -> processes.CeleryProcess:
        env = processes.process_env(fake.url, **{**FAST_WORKER, **overrides})
        return self._start(processes.beat(self.log_dir, env))

    def _start(self, process: processes.CeleryProcess) -> processes.CeleryProcess:
        self.started.append(process)
        return process.start()

    def stop_all(self, print_logs: bool) -> None:
        for process in self.started:
            process.stop()
            if print_logs:
                print(f"----- {process.log_path.name} -----\n{process.log()[-6000:]}")
