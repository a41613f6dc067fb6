"""The throwaway PostgreSQL database each benchmark creates, fills and drops (shared by the benchmarks)."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg


def split(url: str) -> tuple[str, str]:
    """(the server's maintenance database URL, the throwaway database's name), or exit explaining."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql") or not name:
        sys.exit("DATABASE_URL must be postgres://user@host:port/<throwaway database name>")
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), name


def create(url: str) -> None:
    """An empty database at `url`, replacing one left by an interrupted run."""
    server, name = split(url)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop(url: str) -> None:
    server, name = split(url)
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
