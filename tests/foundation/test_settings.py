"""Settings come from the environment and fail loudly on bad values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cio_project import env

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-test-secret-key-that-is-long-enough-for-django-0123456789"


def load_settings(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly these variables set."""
    base = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    base["CIO_RELAY_DATA_DIR"] = str(tmp_path)
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "db = settings.DATABASES['default'];"
        "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']),"
        "'broker': settings.CELERY_BROKER_URL,"
        "'us': settings.CIO_TRACK_URL_US, 'eu': settings.CIO_TRACK_URL_EU, 'debug': settings.DEBUG,"
        "'hosts': settings.ALLOWED_HOSTS, 'log_level': settings.LOG_LEVEL}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "cio_project.settings", **variables},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_with_nothing_set_the_embedded_defaults_are_used(tmp_path):
    # Given no environment at all
    # When the settings load
    result = load_settings(tmp_path)
    # Then SQLite under the data dir, the filesystem broker and Customer.io's real hosts are used
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.sqlite3"
    assert loaded["name"] == str(tmp_path / "cio_relay.sqlite3")
    assert loaded["broker"] == "filesystem://"
    assert loaded["us"] == "https://track.customer.io"
    assert loaded["eu"] == "https://track-eu.customer.io"
    assert loaded["debug"] is False
    assert loaded["log_level"] == "INFO"
    # and a random secret key was made for this installation, readable only by its owner
    key_file = tmp_path / "secret_key"
    assert len(key_file.read_text()) >= 50
    assert key_file.stat().st_mode & 0o077 == 0


def test_postgresql_and_redis_urls_switch_the_backends(tmp_path):
    # Given a PostgreSQL URL, a Redis broker and a secret key
    result = load_settings(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/somewhere",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/3",
        DJANGO_SECRET_KEY=SECRET,
        CIO_TRACK_URL_EU="http://127.0.0.1:9999/",
        ALLOWED_HOSTS="relay.example.com, other.example.com",
        LOG_LEVEL="warning",
    )
    # Then the same settings module points at them
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["engine"] == "django.db.backends.postgresql"
    assert loaded["name"] == "somewhere"
    assert loaded["broker"] == "redis://127.0.0.1:6379/3"
    assert loaded["eu"] == "http://127.0.0.1:9999"
    assert loaded["hosts"] == ["relay.example.com", "other.example.com"]
    assert loaded["log_level"] == "WARNING"


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        (
            {"DATABASE_URL": "postgres://postgres@127.0.0.1/x"},
            "DJANGO_SECRET_KEY must be set when the database is PostgreSQL",
        ),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY must be at least 32"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG must be a boolean"),
        ({"DATABASE_URL": "mysql://root@127.0.0.1/x", "DJANGO_SECRET_KEY": SECRET}, "PostgreSQL or SQLite"),
        ({"DATABASE_URL": "nonsense://", "DJANGO_SECRET_KEY": SECRET}, "DATABASE_URL"),
        ({"CELERY_BROKER_URL": "amqp://guest@localhost//"}, "CELERY_BROKER_URL must be a redis"),
        ({"CIO_TRACK_URL_US": "track.customer.io"}, "CIO_TRACK_URL_US must be an http(s) URL"),
        ({"PUBLIC_URL": "relay.example.com"}, "PUBLIC_URL must be an http(s) URL"),
        ({"CIO_READ_TIMEOUT": "fast"}, "CIO_READ_TIMEOUT must be a number"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"DELIVERY_RETENTION_SECONDS": "0"}, "DELIVERY_RETENTION_SECONDS must be at least 1"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, variables, complaint):
    # Given one bad variable
    # When the settings load
    result = load_settings(tmp_path, **variables)
    # Then start-up fails with ImproperlyConfigured naming it
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert complaint in result.stderr


def test_typed_helpers_read_and_reject(monkeypatch):
    # Given values in the environment
    monkeypatch.setenv("X_BOOL", "Yes")
    monkeypatch.setenv("X_INT", " 42 ")
    monkeypatch.setenv("X_LIST", "a, b,,c ")
    monkeypatch.setenv("X_SMALL", "0")
    monkeypatch.setenv("X_URL", "https://relay.example.com/")
    # Then each helper returns its type, or the default when unset
    assert env.env_bool("X_BOOL", False) is True
    assert env.env_int("X_INT", 0) == 42
    assert env.env_list("X_LIST", []) == ["a", "b", "c"]
    assert env.env_int("X_UNSET", 7) == 7
    assert env.env_http_url("X_URL", "") == "https://relay.example.com"
    # an optional URL (empty default) may stay unset; a required one falls back to its default
    assert env.env_http_url("X_UNSET", "") == ""
    assert env.env_http_url("X_UNSET", "https://track.customer.io") == "https://track.customer.io"
    # and a value out of range is refused
    with pytest.raises(ImproperlyConfigured, match="X_SMALL must be at least 1"):
        env.env_int("X_SMALL", 5, minimum=1)


def test_embedded_sqlite_runs_in_wal_mode(tmp_path):
    # Given the embedded defaults
    code = (
        "import django; django.setup(); from django.db import connection;"
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode'); print(cursor.fetchone()[0])"
    )
    base = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "cio_project.settings", "CIO_RELAY_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then the database journal is write-ahead
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wal"
