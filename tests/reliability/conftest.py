"""Fault-run fixtures (private servers, the template database) and the figures table after the run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import ON_SERVICES
from tests.reliability import report
from tests.reliability.stack import build_template
from tests.support.services import PrivatePostgres, PrivateRedis, private_servers


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[PrivatePostgres, PrivateRedis, str]]:
    """A private PostgreSQL and Redis for every fault scenario, and the template's write key."""
    if not ON_SERVICES:
        pytest.skip("fault runs need PostgreSQL and Redis (the services backend)")
    with private_servers() as (postgres, redis_server):
        yield postgres, redis_server, build_template(postgres, redis_server.url)


def pytest_terminal_summary(terminalreporter) -> None:
    if not report.collected:
        return
    report.write(report.collected)
    terminalreporter.section("reliability: fault scenarios")
    terminalreporter.write_line(report.table(report.collected))
    terminalreporter.write_line(f"(also written to {report.REPORT_PATH})")
