"""Warehouses to read: a SQLite file, and a database of its own on the machine's PostgreSQL and MariaDB
(created for the test and dropped after it; skipped, saying why, when the server is not reachable)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.exc import OperationalError

# kind: (the server's own database, to create and drop ours from; our database's URL as people write it)
SERVERS = {
    "postgresql": (
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        "postgresql://postgres@127.0.0.1:5432/{name}",
    ),
    "mariadb": ("mariadb+pymysql://root@127.0.0.1:3306/test", "mariadb://root@127.0.0.1:3306/{name}"),
}
DROP = {
    "postgresql": "DROP DATABASE IF EXISTS {name} WITH (FORCE)",
    "mariadb": "DROP DATABASE IF EXISTS {name}",
}


@dataclass
class Warehouse:
    """A database holding the tables a test syncs from, read through the URL a person would write."""

    url: str
    engine: sqlalchemy.Engine

    def execute(self, sql: str, rows: list[dict] | None = None) -> None:
        with self.engine.begin() as connection:
            connection.execute(sqlalchemy.text(sql), rows or {})

    def people(self, count: int, table: str = "people") -> None:
        """A table of `count` people: id, email, name, plan."""
        self.execute(
            f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, email VARCHAR(100), name VARCHAR(100),"
            " plan VARCHAR(20))"
        )
        rows = [
            {"id": n, "email": f"p{n}@example.com", "name": f"Person {n}", "plan": "free"}
            for n in range(1, count + 1)
        ]
        self.execute(f"INSERT INTO {table} (id, email, name, plan) VALUES (:id, :email, :name, :plan)", rows)


def _server_database(kind: str) -> Iterator[str]:
    name = f"cio_wh_test_{secrets.token_hex(4)}"
    server_url, url = SERVERS[kind]
    admin = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    except OperationalError as error:
        admin.dispose()
        pytest.skip(f"{kind} is not reachable: {str(error.orig).splitlines()[0]}")
    try:
        yield url.format(name=name)
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(DROP[kind].format(name=name)))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def warehouse(request, tmp_path: Path) -> Iterator[Warehouse]:
    """Each kind of warehouse in turn."""
    yield from _warehouse(request.param, tmp_path)


@pytest.fixture
def sqlite_warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    yield from _warehouse("sqlite", tmp_path)


def _warehouse(kind: str, tmp_path: Path) -> Iterator[Warehouse]:
    from destinations.warehouse.connection import parse_url

    urls = iter([f"sqlite:///{tmp_path / 'warehouse.db'}"]) if kind == "sqlite" else _server_database(kind)
    for url in urls:
        engine = sqlalchemy.create_engine(parse_url(url))
        try:
            yield Warehouse(url, engine)
        finally:
            engine.dispose()
