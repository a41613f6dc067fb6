"""Reading and writing a chunk's row fingerprints in one statement each, on PostgreSQL and SQLite.

A chunk is up to WAREHOUSE_CHUNK_ROWS rows: the ORM's bulk upsert builds one placeholder per value and
model instances per row, which cost more than the sync's own work, so the rows travel as one JSON
parameter (as ingestion's writer sends events) and the database expands them.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from django.db import connection

from destinations.warehouse.models import RowFingerprint


class Known(NamedTuple):
    fingerprint: str
    version: int
    seen_run: int


def load(warehouse_source_id: int, keys: list[str]) -> dict[str, Known]:
    rows = RowFingerprint.objects.filter(warehouse_source_id=warehouse_source_id, key__in=keys).values_list(
        "key", "fingerprint", "version", "seen_run"
    )
    return {key: Known(fingerprint, version, seen_run) for key, fingerprint, version, seen_run in rows}


def save(warehouse_source_id: int, rows: list[tuple[str, str, int, int]]) -> None:
    """Insert or replace (key, fingerprint, version, seen_run) rows of a source."""
    if not rows:
        return
    table = connection.ops.quote_name(RowFingerprint._meta.db_table)
    if connection.vendor == "postgresql":
        source = (
            "json_to_recordset(%s::json) AS r(key text, fingerprint text, version integer, seen_run bigint)"
        )
        values = "%s::bigint, r.key, r.fingerprint, r.version, r.seen_run"
    else:
        source = "json_each(%s) AS r"
        names = ("key", "fingerprint", "version", "seen_run")
        values = "%s, " + ", ".join(f"json_extract(r.value, '$.{name}')" for name in names)
    sql = (
        f'INSERT INTO {table} (warehouse_source_id, "key", fingerprint, version, seen_run) '
        f"SELECT {values} FROM {source} WHERE true "
        'ON CONFLICT (warehouse_source_id, "key") DO UPDATE SET fingerprint = excluded.fingerprint, '
        "version = excluded.version, seen_run = excluded.seen_run"
    )
    payload = json.dumps(
        [{"key": key, "fingerprint": fingerprint, "version": version, "seen_run": seen_run}
         for key, fingerprint, version, seen_run in rows],
        ensure_ascii=False,
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, [warehouse_source_id, payload])


def mark_seen(warehouse_source_id: int, keys: list[str], run_id: int) -> None:
    """Mirror mode: these rows were in this run's query (the rest are removed at its end)."""
    if keys:
        RowFingerprint.objects.filter(warehouse_source_id=warehouse_source_id, key__in=keys).update(
            seen_run=run_id
        )
