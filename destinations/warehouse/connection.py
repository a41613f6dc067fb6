"""Reading a warehouse through SQLAlchemy: URLs as people write them, a streaming cursor, safe errors.

SQLAlchemy speaks to PostgreSQL, MySQL/MariaDB and SQLite out of the box and to Snowflake, BigQuery,
Redshift and others through their dialect packages, so one code path reads them all. A URL as people
write it picks the driver the project ships: psycopg 3 for `postgresql://` and PyMySQL (pure Python)
for `mysql://` and `mariadb://`. Credentials never leave this module in an error: a database's message
is kept, with the URL's password taken out of it, whole or in part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy
from django.core.exceptions import ValidationError
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from cio_project.log_redaction import MASK, redact, register_secret

# The driver the project ships for each database named without one.
DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
MAX_ERROR_LENGTH = 1000
# Where a database cuts a query it quotes back: PostgreSQL's "LINE 1: ...", MariaDB's near '...'.
_CUT_AFTER = r"(?=\.\.\.|['\"]|$)"
_CUT_BEFORE = r"(?:(?<=\.\.\.)|(?<=['\"])|^)"
MIN_MASKED_PART = 3


class WarehouseError(Exception):
    """The warehouse could not be read; the message is the database's, without credentials."""


def parse_url(text: str) -> URL:
    """The SQLAlchemy URL for a connection URL as people write it; raises ValueError saying why."""
    try:
        url = make_url(text.strip())
    except ArgumentError:
        raise ValueError("is not a database URL (e.g. postgresql://user:password@host/db)") from None
    url = url.set(drivername=DRIVERS.get(url.drivername, url.drivername))
    if url.password:
        register_secret(url.password)
    return url


def validate_connection_url(text: str) -> None:
    try:
        url = parse_url(text)
        url.get_dialect()
    except ValueError as error:
        raise ValidationError(f"connection URL {error}") from None
    except NoSuchModuleError:
        raise ValidationError(
            "connection URL: no SQLAlchemy dialect is installed for this kind of database"
        ) from None


def describe(text: str) -> str:
    """Where a URL points, fit for a page: the database kind, host and database, no user or password."""
    try:
        url = parse_url(text)
    except ValueError:
        return "(not a database URL)"
    place = f"{url.host}{f':{url.port}' if url.port else ''}/" if url.host else ""
    return f"{url.get_backend_name()}: {place}{url.database or ''}"


def safe_message(error: BaseException, url: URL | None = None) -> str:
    """The database's own words for an error, never the SQL's parameters or the URL's credentials."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        text = str(error.orig)
    else:
        text = str(error).split("\n(Background on this error")[0]
    text = " ".join(text.split())
    if url is not None and url.password:
        text = without_password(text, url.password)
    text = redact(text)
    return text[:MAX_ERROR_LENGTH] or type(error).__name__


def without_password(text: str, password: str) -> str:
    """The text with the password masked. A database that quotes a failing query back cuts the quote to
    fit, so a password in the query (a literal, a connection string) can show only its start or its end
    at the cut: those are masked too."""
    text = text.replace(password, MASK)
    for length in range(len(password) - 1, MIN_MASKED_PART - 1, -1):
        start, end = re.escape(password[:length]), re.escape(password[-length:])
        text = re.sub(start + _CUT_AFTER, MASK, text)
        text = re.sub(_CUT_BEFORE + end, MASK, text)
    return text


@dataclass
class Warehouse:
    """An open, read-only reading of one source's query."""

    connection: Connection
    url: URL

    def count(self, query: str) -> int | None:
        """How many rows the query returns, for the progress bar; None when the database cannot say."""
        wrapped = sqlalchemy.text(f"SELECT COUNT(*) FROM ({_bare(query)}) AS cio_relay_rows")
        try:
            return int(self.connection.execute(wrapped).scalar_one())
        except SQLAlchemyError:
            # The query itself may be at fault: rows() reads it again and says why.
            self.connection.rollback()
            return None

    def rows(self, query: str, chunk_rows: int) -> Iterator[list[dict]]:
        """The query's rows, `chunk_rows` at a time, from a server-side cursor (memory stays bounded)."""
        try:
            result = self.connection.execution_options(stream_results=True, yield_per=chunk_rows).execute(
                sqlalchemy.text(query)
            )
            for partition in result.mappings().partitions(chunk_rows):
                yield [dict(row) for row in partition]
        except SQLAlchemyError as error:
            raise WarehouseError(safe_message(error, self.url)) from None


@contextmanager
def open_warehouse(text: str) -> Iterator[Warehouse]:
    """Connect (no pool: a run holds one connection, then lets it go); raises WarehouseError."""
    try:
        url = parse_url(text)
    except ValueError as error:
        raise WarehouseError(f"connection URL {error}") from None
    try:
        engine = sqlalchemy.create_engine(url, poolclass=NullPool)
        connection = engine.connect()
    except NoSuchModuleError:
        raise WarehouseError("no SQLAlchemy dialect is installed for this kind of database") from None
    except (SQLAlchemyError, ImportError) as error:
        raise WarehouseError(safe_message(error, url)) from None
    try:
        yield Warehouse(connection, url)
    finally:
        try:
            connection.close()
        finally:
            engine.dispose()


def _bare(query: str) -> str:
    return query.strip().rstrip(";")
