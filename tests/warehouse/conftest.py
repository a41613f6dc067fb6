"""Warehouses to read: a SQLite file, and a database of its own on the machine's PostgreSQL and MariaDB
(created for the test and dropped after it; skipped, saying why, when the server is not reachable), where
a test can also make a user with a password who may read the people table only."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import make_url
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
# kind: (statements that make a user who may read the people table only, and those that remove it)
READER = {
    "postgresql": (
        ["CREATE ROLE {user} LOGIN PASSWORD '{password}'", "GRANT SELECT ON people TO {user}"],
        ["DROP OWNED BY {user}", "DROP ROLE {user}"],
    ),
    "mariadb": (
        [
            "CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'",
            "GRANT SELECT ON {database}.people TO '{user}'@'%'",
        ],
        ["DROP USER '{user}'@'%'"],
    ),
}


@dataclass
class Warehouse:
    """A database holding the tables a test syncs from, read through the URL a person would write."""

    kind: str
    url: str
    engine: sqlalchemy.Engine
    cleanup: list[str] = field(default_factory=list)

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

    def reader(self, password: str) -> str:
        """The URL, as people write it, of a new user who signs in with `password` and may read the people
        table only (PostgreSQL's trust login here takes any password: it is in the URL all the same)."""
        user = f"cio_wh_reader_{secrets.token_hex(4)}"
        url = make_url(self.url)
        make, remove = READER[self.kind]
        names = {"user": user, "password": password, "database": url.database}
        for statement in make:
            self.execute(statement.format(**names))
        self.cleanup[:0] = [statement.format(**names) for statement in remove]
        return url.set(username=user, password=password).render_as_string(hide_password=False)


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


@pytest.fixture(params=["postgresql", "mariadb"])
def server_warehouse(request, tmp_path: Path) -> Iterator[Warehouse]:
    """The database servers in turn (SQLite has no users or passwords)."""
    yield from _warehouse(request.param, tmp_path)


def _warehouse(kind: str, tmp_path: Path) -> Iterator[Warehouse]:
    from destinations.warehouse.connection import parse_url

    urls = iter([f"sqlite:///{tmp_path / 'warehouse.db'}"]) if kind == "sqlite" else _server_database(kind)
    for url in urls:
        engine = sqlalchemy.create_engine(parse_url(url))
        warehouse = Warehouse(kind, url, engine)
        try:
            yield warehouse
        finally:
            for statement in warehouse.cleanup:
                warehouse.execute(statement)
            engine.dispose()
