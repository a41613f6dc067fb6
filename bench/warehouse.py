"""Warehouse sync benchmark: rows per second and peak memory of `manage.py sync_warehouse`, on PostgreSQL.

    .venv/bin/python bench/warehouse.py [--rows 100000,1000000] [--keep]

Two throwaway PostgreSQL databases: the relay's (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/cio_bench_warehouse) and the warehouse's (the same name with
`_source`), both dropped at the end unless --keep. For each table size the warehouse gets a table of
people made with generate_series (id, email, name, plan, seats, signed-up time) and a warehouse source
reading it in upsert mode. Each measurement is its own process, so its peak RSS (from wait4) is its own:

- bare SELECT: the same query read with SQLAlchemy's streaming cursor and thrown away (the baseline);
- first sync: every row is new, so every row becomes an event and a delivery in the relay's database;
- second sync, after 1% of the rows changed: every row is read and compared, 1% are stored.

No worker runs: the figures are the sync's (read, map, compare, store), not Customer.io's.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import throwaway

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cio_bench_warehouse"
PEOPLE_TABLE = """
CREATE TABLE people_{rows} AS
SELECT n AS id, 'person' || n || '@example.com' AS email, 'Person ' || n AS name,
       (ARRAY['free', 'team', 'pro'])[1 + n % 3] AS plan, n % 50 AS seats,
       timestamptz '2025-01-01' + n * interval '1 minute' AS signed_up_at
FROM generate_series(1, {rows}) AS n;
ALTER TABLE people_{rows} ADD PRIMARY KEY (id);
"""
BARE_SELECT = """
import sys, sqlalchemy
from destinations.warehouse.connection import parse_url
engine = sqlalchemy.create_engine(parse_url(sys.argv[1]))
with engine.connect() as connection:
    streaming = connection.execution_options(stream_results=True, yield_per=1000)
    result = streaming.execute(sqlalchemy.text(sys.argv[2]))
    count = sum(len(rows) for rows in result.mappings().partitions(1000))
print(count)
"""
SETUP = """
from destinations.models import Destination
from destinations.warehouse.models import WarehouseSource
destination = Destination.objects.create(name="Customer.io bench", site_id="site", api_key="key")
for rows in {sizes}:
    query = f"SELECT * FROM people_{{rows}}"
    source = WarehouseSource(
        name=f"people {{rows}}", connection_url="{url}", query=query, identifier_column="id"
    )
    source.save()
    source.source.destinations.add(destination)
"""


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(seconds, peak RSS in MB, stdout) of a child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command[:4])} failed:\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output.strip()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="100000,1000000", help="table sizes, comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep both databases")
    options = parser.parse_args()
    sizes = [int(size) for size in options.rows.split(",")]
    relay_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    source_url = relay_url + "_source"
    warehouse_url = source_url.replace("postgres://", "postgresql://", 1)
    env = {
        **os.environ,
        "DATABASE_URL": relay_url,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(48),
        "LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    throwaway.create(relay_url)
    throwaway.create(source_url)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    try:
        with psycopg.connect(warehouse_url, autocommit=True) as connection:
            for rows in sizes:
                connection.execute(PEOPLE_TABLE.format(rows=rows))
        subprocess.run([*manage, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True)
        setup = SETUP.format(sizes=sizes, url=warehouse_url)
        subprocess.run([*manage, "shell", "--command", setup], env=env, cwd=ROOT, check=True)
        for rows in sizes:
            run_size(rows, warehouse_url, manage, env)
    finally:
        if not options.keep:
            throwaway.drop(relay_url)
            throwaway.drop(source_url)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


def run_size(rows: int, warehouse_url: str, manage: list[str], env: dict[str, str]) -> None:
    query = f"SELECT * FROM people_{rows}"
    bare, bare_rss, counted = measured([sys.executable, "-c", BARE_SELECT, warehouse_url, query], env)
    assert int(counted) == rows, counted
    first, first_rss, first_summary = measured([*manage, "sync_warehouse", f"people {rows}"], env)
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        connection.execute(f"UPDATE people_{rows} SET plan = 'enterprise' WHERE id % 100 = 0")
    second, second_rss, second_summary = measured([*manage, "sync_warehouse", f"people {rows}"], env)
    figures = {
        "rows": rows,
        "bare_select_rows_per_s": round(rows / bare),
        "first_sync_rows_per_s": round(rows / first),
        "second_sync_1pct_changed_rows_per_s": round(rows / second),
        "first_sync_vs_select": f"{bare / first:.3f}x",
        "second_sync_vs_select": f"{bare / second:.3f}x",
        "peak_rss_mb": {
            "select": round(bare_rss),
            "first_sync": round(first_rss),
            "second_sync": round(second_rss),
        },
    }
    print(first_summary.splitlines()[-1])
    print(second_summary.splitlines()[-1])
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    sys.exit(main())
