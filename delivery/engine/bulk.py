"""Updating many rows, each with its own values, in one statement on PostgreSQL and SQLite.

Django's bulk_update() builds a CASE expression per field and row, which costs seconds of CPU
for a claim of 500 deliveries; the engine's throughput target needs this to take milliseconds.
Both databases accept `WITH v(...) AS (VALUES ...) UPDATE ... FROM v`. A field whose value is the
same in every row is sent once instead of once per row.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Field, Model

# Rows per statement: far below SQLite's limit of 32766 parameters.
ROWS_PER_STATEMENT = 500


def update_rows(objects: Sequence[Model], field_names: Sequence[str], *, only_if: tuple[str, object]) -> int:
    """Write `field_names` of each object to its row, where the row's `only_if` column still holds
    the given value (the claim token). Returns how many rows were updated."""
    updated = 0
    for start in range(0, len(objects), ROWS_PER_STATEMENT):
        updated += _update_batch(objects[start : start + ROWS_PER_STATEMENT], field_names, only_if)
    return updated


def _update_batch(objects: Sequence[Model], field_names: Sequence[str], only_if: tuple[str, object]) -> int:
    if not objects:
        return 0
    meta = objects[0]._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    fields = [meta.get_field(name) for name in field_names]
    first = objects[0]
    shared = [f for f in fields if all(getattr(o, f.attname) == getattr(first, f.attname) for o in objects)]
    varying = [meta.pk, *(field for field in fields if field not in shared)]
    row = "(" + ", ".join(_placeholder(field) for field in varying) + ")"
    assignments = [f"{quote(field.column)} = {_placeholder(field)}" for field in shared]
    assignments += [f"{quote(field.column)} = v.{quote(field.column)}" for field in varying[1:]]
    rows = [
        field.get_db_prep_save(getattr(obj, field.attname), connection)
        for obj in objects
        for field in varying
    ]
    constants = [field.get_db_prep_save(getattr(first, field.attname), connection) for field in shared]
    columns = ", ".join(quote(field.column) for field in varying)
    sql = (
        f"WITH v ({columns}) AS (VALUES {', '.join([row] * len(objects))}) "
        f"UPDATE {table} SET {', '.join(assignments)} FROM v "
        f"WHERE {table}.{pk} = v.{pk} AND {table}.{quote(meta.get_field(only_if[0]).column)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*rows, *constants, only_if[1]])  # in the order the SQL names them
        return cursor.rowcount


def _placeholder(field: Field) -> str:
    # PostgreSQL would otherwise take every VALUES column for text; SQLite needs no casts.
    if connection.vendor == "postgresql":
        return f"CAST(%s AS {field.cast_db_type(connection)})"
    return "%s"
