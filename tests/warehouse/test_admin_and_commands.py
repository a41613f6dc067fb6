"""Creating a warehouse source (command and admin), its runs in the admin, and when beat starts one."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from delivery.warehouse.schedule import due_sources
from delivery.warehouse.sync import start_run
from destinations.warehouse.models import SyncRun, WarehouseSource
from tests.support.factories import make_destination
from tests.warehouse.helpers import make_warehouse_source

pytestmark = pytest.mark.django_db

PASSWORD = "s3cret-warehouse-pw"
URL = f"postgresql://reader:{PASSWORD}@db.example.com:5432/crm"


def test_add_warehouse_source_creates_it_feeding_the_destination(capsys):
    make_destination(name="Customer.io")
    call_command(
        "add_warehouse_source", "crm", "--url", URL, "--query", "SELECT * FROM accounts",
        "--identifier-column", "account_id", "--object", "object", "--object-type-id", "1",
        "--relationships-column", "members", "--identifier", "email", "--mode", "mirror", "--every", "15",
        "--destination", "Customer.io", "--json",
    )  # fmt: skip
    output = capsys.readouterr().out
    data = json.loads(output)
    warehouse = WarehouseSource.objects.get()
    assert data == {
        "id": warehouse.pk,
        "name": "crm",
        "database": "postgresql: db.example.com:5432/crm",
        "destinations": ["Customer.io"],
    }
    assert (warehouse.kind, warehouse.mode, warehouse.every_minutes, warehouse.identifier) == (
        "object", "mirror", 15, "email",
    )  # fmt: skip
    assert warehouse.connection_url == URL
    # Its rows are logged under a source of its own, which no write key opens
    assert (warehouse.source.name, warehouse.source.enabled) == ("Warehouse: crm", False)
    assert PASSWORD not in output


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (
            ["--event-name-column", "what", "--timestamp-column", "placed_at", "--identifier", "email"],
            {
                "event_name_column": "what",
                "event_name": "",
                "timestamp_column": "placed_at",
                "identifier": "email",
            },
        ),
        (
            ["--event-name", "Order Placed", "--identifier", "cio_id"],
            {
                "event_name_column": "",
                "event_name": "Order Placed",
                "timestamp_column": "",
                "identifier": "cio_id",
            },
        ),
    ],
)
def test_add_warehouse_source_creates_an_event_table_named_by_a_column_or_a_fixed_name(flags, expected):
    make_destination(name="Customer.io")
    call_command(
        "add_warehouse_source", "orders", "--url", "sqlite:///orders.db", "--query", "SELECT * FROM orders",
        "--identifier-column", "who", "--object", "event", "--destination", "Customer.io", *flags,
    )  # fmt: skip
    warehouse = WarehouseSource.objects.get()
    assert (warehouse.kind, warehouse.mode, warehouse.every_minutes) == ("event", "upsert", 60)
    assert {name: getattr(warehouse, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--url", "not a url"], "connection_url: connection URL is not a database URL"),
        (["--url", "nosuchdb://x/y"], "no SQLAlchemy dialect is installed"),
        (["--destination", "Nowhere"], "unknown destination: Nowhere"),
        (["--object", "event"], "event_name: An event needs a fixed name or a column that holds it."),
    ],
)
def test_add_warehouse_source_refuses_what_is_wrong_in_one_line(arguments, message):
    make_destination(name="Customer.io")
    base = {"--url": URL, "--query": "SELECT 1", "--identifier-column": "id", "--destination": "Customer.io"}
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        base[flag] = value
    with pytest.raises(CommandError) as raised:
        call_command("add_warehouse_source", "crm", *[part for pair in base.items() for part in pair])
    assert message in str(raised.value)
    assert raised.value.returncode == 2
    assert not WarehouseSource.objects.exists()


def test_a_source_is_due_when_its_interval_has_passed_and_no_run_is_under_way():
    destination = make_destination()
    never_ran = make_warehouse_source("sqlite:///never.db", destination, name="never ran")
    recent = make_warehouse_source("sqlite:///recent.db", destination, name="recent", every_minutes=60)
    old = make_warehouse_source("sqlite:///old.db", destination, name="old", every_minutes=60)
    running = make_warehouse_source("sqlite:///running.db", destination, name="running")
    make_warehouse_source("sqlite:///off.db", destination, name="off", enabled=False)
    now = timezone.now()
    for source, age in ((recent, 10), (old, 61)):
        SyncRun.objects.create(
            warehouse_source=source,
            state="succeeded",
            started_at=now - timedelta(minutes=age),
            heartbeat_at=now,
        )
    start_run(running, dry_run=False)
    # A dry run changes nothing, so it does not put the next run off
    SyncRun.objects.create(
        warehouse_source=never_ran, dry_run=True, state="succeeded", started_at=now, heartbeat_at=now
    )
    assert sorted(due_sources(now)) == sorted([never_ran.pk, old.pk])


def test_a_source_whose_run_was_killed_is_due_again_and_one_still_running_is_not(settings):
    # Given two sources due by their interval, each with a run still marked running: one whose process
    # beats its heartbeat, and one whose heartbeat stopped (its worker was SIGKILLed)
    destination = make_destination()
    killed = make_warehouse_source("sqlite:///killed.db", destination, name="killed", every_minutes=60)
    alive = make_warehouse_source("sqlite:///alive.db", destination, name="alive", every_minutes=60)
    now = timezone.now()
    stale = now - timedelta(seconds=settings.WAREHOUSE_RUN_STALE_SECONDS + 1)
    for source, heartbeat in ((killed, stale), (alive, now)):
        SyncRun.objects.create(
            warehouse_source=source, started_at=now - timedelta(minutes=61), heartbeat_at=heartbeat
        )
    # Then beat starts the killed one again (its new run marks the dead one interrupted), not the live one
    assert due_sources(now) == [killed.pk]


@pytest.fixture
def browser() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "a-long-password-for-tests"))
    return client


def test_the_admin_never_shows_the_connection_url_and_keeps_it_when_left_empty(browser):
    destination = make_destination(name="Customer.io")
    warehouse = make_warehouse_source(URL, destination)
    page = browser.get(f"/admin/warehouse/warehousesource/{warehouse.pk}/change/").content.decode()
    assert "Set: postgresql: db.example.com:5432/crm" in page
    assert PASSWORD not in page and "reader" not in page
    form = {
        "name": "crm people", "enabled": "on", "connection_url": "", "destinations": [destination.pk],
        "query": "SELECT id, plan FROM people", "identifier_column": "id", "identifier": "id",
        "kind": "person",
        "mode": "upsert", "every_minutes": "30",
    }  # fmt: skip
    response = browser.post(f"/admin/warehouse/warehousesource/{warehouse.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    warehouse.refresh_from_db()
    assert (warehouse.connection_url, warehouse.every_minutes) == (URL, 30)
    assert list(warehouse.source.destinations.all()) == [destination]


def test_a_run_shows_its_progress_counts_and_a_link_to_its_deliveries(browser):
    warehouse = make_warehouse_source(URL, make_destination())
    run = start_run(warehouse, dry_run=False)
    SyncRun.objects.filter(pk=run.pk).update(rows_total=200, rows_read=50, rows_new=40, rows_unchanged=10)
    listing = browser.get("/admin/warehouse/syncrun/").content.decode()
    assert '<progress max="100" value="25"></progress> 25% (50 of 200 rows)' in listing
    page = browser.get(f"/admin/warehouse/syncrun/{run.pk}/change/").content.decode()
    assert f"/admin/delivery/delivery/?source__id__exact={warehouse.source_id}" in page
    source_page = browser.get(f"/admin/warehouse/warehousesource/{warehouse.pk}/change/").content.decode()
    assert f"/admin/warehouse/syncrun/{run.pk}/change/" in source_page


@pytest.mark.parametrize(
    ("action", "options"), [("sync_now", {}), ("dry_run", {"kwargs": {"dry_run": True}})]
)
def test_the_admin_starts_a_sync_or_a_dry_run_through_the_worker(browser, monkeypatch, action, options):
    from celery import current_app

    from delivery.tasks import sync_warehouse

    warehouse = make_warehouse_source(URL, make_destination())
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **given: sent.append((name, given)))
    response = browser.post(
        "/admin/warehouse/warehousesource/", {"action": action, "_selected_action": [warehouse.pk]}
    )
    assert response.status_code == 302
    # The task it names is the worker's
    assert sent == [(sync_warehouse.name, {"args": [warehouse.pk], **options})]


def test_the_admin_starts_no_second_run_of_a_source_already_syncing_nor_of_a_disabled_one(
    browser, monkeypatch
):
    from celery import current_app

    destination = make_destination()
    idle = make_warehouse_source(URL, destination, name="idle")
    syncing = make_warehouse_source(URL, destination, name="syncing")
    disabled = make_warehouse_source(URL, destination, name="switched off", enabled=False)
    start_run(syncing, dry_run=False)
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, **given: sent.append(given["args"]))
    response = browser.post(
        "/admin/warehouse/warehousesource/",
        {"action": "sync_now", "_selected_action": [idle.pk, syncing.pk, disabled.pk]},
        follow=True,
    )
    assert sent == [[idle.pk]]
    page = response.content.decode()
    assert "Started 1 sync(s): see Sync runs." in page
    assert "Already syncing, not started again: syncing." in page
    assert "Disabled, not started: switched off." in page
