"""Connection URLs as people write them, and a database's error without the password (no database)."""

from __future__ import annotations

import pytest

from destinations.warehouse.connection import parse_url, safe_message

PASSWORD = "Wh-s3cret!pw"


@pytest.mark.parametrize(
    ("written", "driver"),
    [
        ("postgresql://reader:pw@db.internal:5432/crm", "postgresql+psycopg"),
        ("postgres://reader:pw@db.internal/crm", "postgresql+psycopg"),
        ("mysql://reader:pw@db.internal:3306/crm", "mysql+pymysql"),
        ("mariadb://reader:pw@db.internal/crm", "mariadb+pymysql"),
        ("sqlite:///var/crm.db", "sqlite"),
        # A driver named in the URL is the one used
        ("postgresql+psycopg2://reader:pw@db.internal/crm", "postgresql+psycopg2"),
        ("snowflake://reader:pw@account/db", "snowflake"),
    ],
)
def test_a_url_as_people_write_it_picks_the_driver_the_project_ships(written, driver):
    assert parse_url(written).drivername == driver


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        # PostgreSQL's LINE excerpt, cut in the password
        (
            f'syntax error at or near "="\nLINE 1: ...plan = = \'{PASSWORD[:7]}...\n                ^',
            'syntax error at or near "=" LINE 1: ...plan = = \'[redacted]... ^',
        ),
        # MariaDB's near '...', cut at 80 characters: the password's start, or its end after a cut
        (f"near '= '{PASSWORD[:5]}' at line 1", "near '= '[redacted]' at line 1"),
        (f"near '...{PASSWORD[-4:]}' at line 1", "near '...[redacted]' at line 1"),
        (
            f"Access denied for {PASSWORD} (using password: YES)",
            "Access denied for [redacted] (using password: YES)",
        ),
        # Words that merely share letters with the password are left alone
        ("permission denied for table secrets", "permission denied for table secrets"),
    ],
)
def test_a_database_message_never_shows_the_password_whole_or_in_part(message, shown):
    url = parse_url(f"postgresql://reader:{PASSWORD.replace('!', '%21')}@db.internal/crm")
    assert safe_message(Exception(message), url) == shown
