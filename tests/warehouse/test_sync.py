"""Syncing a warehouse source against real databases: SQLite, and the machine's PostgreSQL and MariaDB.

The sync runs in the test process and the engine delivers to the fake Customer.io in the test process;
tests/warehouse/test_worker.py has a real Celery worker and a killed sync.
"""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from delivery.models import Delivery, Event
from delivery.tasks import sync_warehouse as sync_warehouse_task
from delivery.warehouse.sync import AlreadyRunning, start_run, sync
from destinations.warehouse.models import RowFingerprint, SyncRun
from tests.warehouse.helpers import (
    batching_destination,
    deliver_everything,
    make_warehouse_source,
    received_people,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("mode", ["mirror", "upsert"])
def test_ten_thousand_people_then_100_changed_and_10_deleted(warehouse, fake, mode):
    # Given a table of 10,000 people synced to Customer.io
    warehouse.people(10_000)
    destination = batching_destination()
    source = make_warehouse_source(warehouse.url, destination, mode=mode)
    first = sync(source)
    assert (first.state, first.error, first.rows_new, first.events_stored) == (
        "succeeded",
        "",
        10_000,
        10_000,
    )
    deliver_everything(destination)
    people = received_people(fake)
    assert len(people) == 10_000
    assert {person_id for _, person_id, _ in people} == {str(n) for n in range(1, 10_001)}
    # When 100 rows change and 10 are deleted, and the source syncs again
    warehouse.execute("UPDATE people SET plan = 'pro' WHERE MOD(id, 100) = 0")
    warehouse.execute("DELETE FROM people WHERE id BETWEEN 5001 AND 5010")
    fake.received.clear()
    second = sync(source)
    deliver_everything(destination)
    # Then exactly the 100 updates (and in mirror mode the 10 deletes) reach Customer.io, nothing else
    removed = 10 if mode == "mirror" else 0
    assert (second.state, second.rows_read, second.rows_changed, second.rows_new) == (
        "succeeded",
        9_990,
        100,
        0,
    )
    assert (second.rows_removed, second.rows_unchanged, second.events_stored) == (
        removed,
        9_890,
        100 + removed,
    )
    people = received_people(fake)
    updates = [
        (person_id, attributes.get("plan")) for action, person_id, attributes in people if action != "delete"
    ]
    deletes = sorted(person_id for action, person_id, _ in people if action == "delete")
    assert sorted(updates) == sorted((str(n), "pro") for n in range(100, 10_001, 100))
    assert deletes == sorted(str(n) for n in range(5001, 5011))[:removed]
    assert len(people) == 100 + removed
    # And a third run with nothing changed sends nothing
    fake.received.clear()
    third = sync(source)
    deliver_everything(destination)
    assert (third.rows_unchanged, third.events_stored, fake.requests()) == (9_990, 0, [])


def test_a_query_error_changes_nothing_and_says_why(warehouse, fake, capsys):
    # Given a source whose query names a table that does not exist
    warehouse.people(10)
    destination = batching_destination()
    source = make_warehouse_source(warehouse.url, destination, query="SELECT id, plan FROM no_such_table")
    # When it syncs, from the terminal
    with pytest.raises(CommandError) as raised:
        call_command("sync_warehouse", source.name)
    # Then the run failed with the database's words, and nothing was stored
    run = SyncRun.objects.get()
    assert run.state == "failed"
    assert "no_such_table" in run.error
    assert raised.value.returncode == 2
    assert "no_such_table" in str(raised.value) and "\n" not in str(raised.value)
    assert not Event.objects.exists() and not RowFingerprint.objects.exists()
    # And the run's row says so without the connection URL
    assert warehouse.url not in run.error


def test_a_run_the_worker_started_that_fails_is_in_the_workers_log(sqlite_warehouse, caplog):
    source = make_warehouse_source(
        sqlite_warehouse.url, batching_destination(), query="SELECT id FROM no_such_table"
    )
    sync_warehouse_task(source.pk)
    run = SyncRun.objects.get()
    assert f"warehouse source crm people: run {run.pk} failed: no such table: no_such_table" in caplog.text


PASSWORD = "Wh-s3cret!pw"
# kind: what makes a query run longer than 300 ms fail, given in the URL as people do
TIMEOUT = {
    "postgresql": "?options=-c%20statement_timeout%3D300",
    "mariadb": "?init_command=SET%20SESSION%20max_statement_time%3D0.3",
}
SLOW_QUERY = {
    "postgresql": "SELECT id, plan FROM people WHERE pg_sleep(1) IS NOT NULL",
    "mariadb": "SELECT id, plan FROM people WHERE SLEEP(1) = 0",
}
DENIED = {"postgresql": "permission denied for table secrets", "mariadb": "SELECT command denied to user"}


@pytest.mark.parametrize("failure", ["syntax", "permissions", "timeout"])
def test_a_refused_query_fails_the_run_in_the_databases_words_and_never_shows_the_password(
    server_warehouse, fake, caplog, failure
):
    # Given a read-only user with a password, who may read people but not secrets, and a query that
    # fails: a syntax error whose message quotes the query back (the password with it), a table the user
    # may not read, or a statement timeout
    server_warehouse.people(10)
    server_warehouse.execute("CREATE TABLE secrets (id INTEGER)")
    url = server_warehouse.reader(PASSWORD)
    kind = server_warehouse.kind
    query, words = {
        "syntax": (f"SELECT id, plan FROM people WHERE plan = = '{PASSWORD}'", "syntax"),
        "permissions": ("SELECT id FROM secrets", DENIED[kind]),
        "timeout": (SLOW_QUERY[kind], "timeout" if kind == "postgresql" else "max_statement_time exceeded"),
    }[failure]
    if failure == "timeout":
        url += TIMEOUT[kind]
    source = make_warehouse_source(url, batching_destination(), query=query)
    # When the worker syncs it, and then sync_warehouse does
    sync_warehouse_task(source.pk)
    with pytest.raises(CommandError) as raised:
        call_command("sync_warehouse", source.name)
    # Then both runs failed in the database's words, and nothing was stored
    runs = list(SyncRun.objects.order_by("id"))
    assert [run.state for run in runs] == ["failed", "failed"]
    assert all(words in run.error for run in runs), runs[0].error
    assert str(raised.value) == f"run {runs[1].pk} failed: {runs[1].error}"
    assert not Event.objects.exists() and not RowFingerprint.objects.exists()
    # And neither the runs, the worker's log line nor the command's line holds the password or the URL
    for text in (*(run.error for run in runs), caplog.text, str(raised.value)):
        assert PASSWORD not in text and "Wh-s3cret%21pw" not in text and url not in text
    if failure == "syntax":
        assert "[redacted]" in runs[0].error


def test_each_database_is_read_through_its_url_as_people_write_it(warehouse, fake):
    # Given a table of 3 people, and its URL in each spelling people use for that database
    warehouse.people(3)
    spellings = {
        "sqlite": [warehouse.url],
        "postgresql": [warehouse.url, warehouse.url.replace("postgresql://", "postgres://", 1)],
        "mariadb": [warehouse.url, warehouse.url.replace("mariadb://", "mysql://", 1)],
    }[warehouse.kind]
    destination = batching_destination()
    for number, url in enumerate(spellings):
        # When a source reads it through each
        source = make_warehouse_source(url, destination, name=f"people {number}")
        run = sync(source)
        # Then each reads the three rows with the driver the project ships
        assert (run.state, run.error, run.rows_new) == ("succeeded", "", 3)


def test_a_missing_column_fails_the_run_naming_it(sqlite_warehouse, fake):
    sqlite_warehouse.people(3)
    source = make_warehouse_source(sqlite_warehouse.url, batching_destination(), identifier_column="user_id")
    run = sync(source)
    assert run.state == "failed"
    assert run.error == "the query returns no column 'user_id' (its columns: id, email, name, plan)"
    assert not Event.objects.exists()


def test_a_bad_row_fails_alone_with_its_reason(sqlite_warehouse, fake):
    # Given a query whose third row has no identifier
    sqlite_warehouse.people(5)
    destination = batching_destination()
    query = "SELECT CASE WHEN id = 3 THEN NULL ELSE id END AS id, email, plan FROM people ORDER BY people.id"
    source = make_warehouse_source(sqlite_warehouse.url, destination, query=query)
    # When it syncs
    run = sync(source)
    deliver_everything(destination)
    # Then the other four reach Customer.io and the bad one is listed with why
    assert (run.state, run.rows_new, run.rows_failed) == ("succeeded", 4, 1)
    assert run.failures == [{"row": 3, "identifier": None, "reason": "column 'id' (the identifier) is empty"}]
    assert sorted(person_id for _, person_id, _ in received_people(fake)) == ["1", "2", "4", "5"]


def test_a_dry_run_counts_and_shows_sample_requests_and_stores_nothing(sqlite_warehouse, fake, capsys):
    sqlite_warehouse.people(20)
    source = make_warehouse_source(sqlite_warehouse.url, batching_destination())
    call_command("sync_warehouse", source.name, "--dry-run")
    out = capsys.readouterr().out.splitlines()
    run = SyncRun.objects.get()
    assert (run.dry_run, run.rows_read, run.rows_new, run.events_stored) == (True, 20, 20, 0)
    assert out[-1] == (
        f"dry run {run.pk} of 'crm people': 20 rows read, 20 new, 0 changed, 0 removed, 0 unchanged, "
        "0 failed; 0 events stored"
    )
    assert len(run.samples) == 5
    assert run.samples[0]["message"]["identifiers"] == {"id": "1"}
    assert "requests" in run.samples[0], run.samples[0]
    assert not Event.objects.exists() and not RowFingerprint.objects.exists()
    assert fake.requests() == []


def test_one_run_at_a_time_per_source(sqlite_warehouse):
    sqlite_warehouse.people(1)
    source = make_warehouse_source(sqlite_warehouse.url, batching_destination())
    start_run(source, dry_run=False)
    with pytest.raises(AlreadyRunning):
        sync(source)
    with pytest.raises(CommandError, match="already syncing"):
        call_command("sync_warehouse", source.name)


def test_every_synced_row_is_a_delivery_in_the_log(sqlite_warehouse, fake):
    sqlite_warehouse.people(3)
    destination = batching_destination()
    source = make_warehouse_source(sqlite_warehouse.url, destination)
    sync(source)
    deliver_everything(destination)
    deliveries = Delivery.objects.filter(source=source.source).select_related("event")
    assert Counter(delivery.status for delivery in deliveries) == {"delivered": 3}
    assert sorted(delivery.person for delivery in deliveries) == ["1", "2", "3"]
    assert {delivery.event.type for delivery in deliveries} == {"record"}


def test_an_event_table_sends_each_new_row_once_as_an_event(sqlite_warehouse, fake):
    # Given a table of orders, synced as events named by a column, at their order time
    sqlite_warehouse.execute("CREATE TABLE orders (email TEXT, what TEXT, placed_at TEXT, total REAL)")
    insert = "INSERT INTO orders VALUES (:email, :what, :at, :total)"
    sqlite_warehouse.execute(insert, [
        {"email": "ann@example.com", "what": "Order Placed", "at": "2026-01-02T03:04:05Z", "total": 12.5},
        {"email": "bob@example.com", "what": "Order Placed", "at": "2026-01-03T03:04:05Z", "total": 8.0},
    ])  # fmt: skip
    destination = batching_destination()
    source = make_warehouse_source(
        sqlite_warehouse.url, destination, kind="event", query="SELECT * FROM orders", identifier="email",
        identifier_column="email", event_name_column="what", timestamp_column="placed_at",
    )  # fmt: skip
    first = sync(source)
    # When one more order arrives and the source syncs again
    sqlite_warehouse.execute(insert, [{"email": "ann@example.com", "what": "Refund", "at": None, "total": 3}])
    second = sync(source)
    deliver_everything(destination)
    # Then each order was sent once, as an event of its person
    assert (first.rows_new, second.rows_new, second.rows_unchanged) == (2, 1, 2)
    items = [item for request in fake.requests("/api/v2/batch") for item in request.json["batch"]]
    assert sorted((item["identifiers"]["email"], item["name"]) for item in items) == [
        ("ann@example.com", "Order Placed"),
        ("ann@example.com", "Refund"),
        ("bob@example.com", "Order Placed"),
    ]
    assert {item["action"] for item in items} == {"event"}
    # At the time in their timestamp column, when it has one
    assert sorted((item["name"], item.get("timestamp")) for item in items) == [
        ("Order Placed", 1767323045),
        ("Order Placed", 1767409445),
        ("Refund", None),
    ]
    payloads = [event.payload for event in Event.objects.order_by("id")]
    assert payloads[0]["fields"] == {"created_at": "2026-01-02T03:04:05Z", "total": 12.5}


def test_an_object_table_sends_objects_related_to_their_people(sqlite_warehouse, fake):
    sqlite_warehouse.execute("CREATE TABLE accounts (account_id TEXT, name TEXT, members TEXT)")
    sqlite_warehouse.execute(
        "INSERT INTO accounts VALUES (:id, :name, :members)",
        [
            {"id": "acme", "name": "Acme", "members": "u1,u2"},
            {"id": "globex", "name": "Globex", "members": "[]"},
        ],
    )
    destination = batching_destination()
    source = make_warehouse_source(
        sqlite_warehouse.url, destination, kind="object", query="SELECT * FROM accounts",
        identifier_column="account_id", object_type_id="1", relationships_column="members", mode="mirror",
    )  # fmt: skip
    sync(source)
    sqlite_warehouse.execute("DELETE FROM accounts WHERE account_id = 'globex'")
    second = sync(source)
    deliver_everything(destination)
    assert (second.rows_removed, second.rows_unchanged) == (1, 1)
    items = [item for request in fake.requests("/api/v2/batch") for item in request.json["batch"]]
    by_action = sorted((item["action"], item["identifiers"]["object_id"]) for item in items)
    assert by_action == [("delete", "globex"), ("identify", "acme"), ("identify", "globex")]
    acme = next(item for item in items if item["identifiers"]["object_id"] == "acme")
    assert acme["identifiers"]["object_type_id"] == "1"
    assert acme["cio_relationships"] == [{"identifiers": {"id": "u1"}}, {"identifiers": {"id": "u2"}}]


def test_in_mirror_mode_a_row_that_turns_bad_fails_alone_and_is_not_deleted(sqlite_warehouse, fake):
    # Given 5 people synced in mirror mode
    sqlite_warehouse.people(5)
    destination = batching_destination()
    source = make_warehouse_source(sqlite_warehouse.url, destination, mode="mirror")
    sync(source)
    deliver_everything(destination)
    # When person 3's plan becomes a value no record can carry (binary data) and person 5 leaves
    sqlite_warehouse.execute("UPDATE people SET plan = X'00ff' WHERE id = 3")
    sqlite_warehouse.execute("DELETE FROM people WHERE id = 5")
    fake.received.clear()
    dry = sync(source, dry_run=True)
    second = sync(source)
    deliver_everything(destination)
    # Then person 3 fails with why and stays in Customer.io; only person 5 is deleted, as the dry run said
    reason = "column 'plan' holds binary data, which Customer.io cannot take"
    assert second.failures == [{"row": 3, "identifier": "3", "reason": reason}]
    assert [(run.rows_failed, run.rows_removed, run.rows_unchanged) for run in (dry, second)] == [
        (1, 1, 3)
    ] * 2
    assert received_people(fake) == [("delete", "5", {})]
    # And once the row is right again it is not new: it was never deleted
    sqlite_warehouse.execute("UPDATE people SET plan = 'free' WHERE id = 3")
    third = sync(source)
    assert (third.rows_new, third.rows_changed, third.rows_unchanged, third.events_stored) == (0, 0, 4, 0)


@pytest.mark.parametrize(
    ("identifier", "value"), [("id", "42"), ("email", "ann@example.com"), ("cio_id", "a3000001")]
)
def test_the_identifier_column_names_the_person_as_customer_io_does(
    sqlite_warehouse, fake, identifier, value
):
    # Given a table whose person column holds a Customer.io id, an email or a cio_id
    sqlite_warehouse.execute("CREATE TABLE people (who TEXT, plan TEXT)")
    sqlite_warehouse.execute("INSERT INTO people VALUES (:who, 'pro')", [{"who": value}])
    destination = batching_destination()
    source = make_warehouse_source(
        sqlite_warehouse.url, destination, query="SELECT * FROM people", identifier_column="who",
        identifier=identifier,
    )  # fmt: skip
    # When it syncs
    sync(source)
    deliver_everything(destination)
    # Then Customer.io hears of the person by that identifier, with the other columns as attributes
    (item,) = [item for request in fake.requests("/api/v2/batch") for item in request.json["batch"]]
    assert (item["identifiers"], item["attributes"]) == ({identifier: value}, {"plan": "pro"})


def test_a_row_whose_value_customer_io_refuses_fails_alone_in_the_log_with_its_answer(sqlite_warehouse, fake):
    # Given a table whose second person's id is over Customer.io's 150-byte limit, which Customer.io
    # refuses for that item of the batch (the destination does not check limits before sending)
    sqlite_warehouse.execute("CREATE TABLE people (id TEXT, plan TEXT)")
    rows = [{"id": "u1"}, {"id": "x" * 200}, {"id": "u3"}]
    sqlite_warehouse.execute("INSERT INTO people VALUES (:id, 'pro')", rows)
    error = {"batch_index": 1, "reason": "invalid", "field": "identifiers.id", "message": "too long"}
    fake.answer(207, body={"errors": [error]})
    destination = batching_destination()
    source = make_warehouse_source(sqlite_warehouse.url, destination, query="SELECT * FROM people")
    # When it syncs and its deliveries are made
    run = sync(source)
    deliver_everything(destination)
    # Then its delivery failed with Customer.io's answer, and the others were delivered
    assert (run.state, run.rows_new, run.events_stored) == ("succeeded", 3, 3)
    (batch,) = fake.requests("/api/v2/batch")
    assert [item["identifiers"]["id"] for item in batch.json["batch"]] == ["u1", "x" * 200, "u3"]
    statuses = dict(Delivery.objects.filter(source=source.source).values_list("person", "status"))
    assert statuses == {"u1": "delivered", "x" * 200: "failed", "u3": "delivered"}
    assert Delivery.objects.get(status="failed").reason == (
        "Customer.io rejected this item: reason: invalid, field: identifiers.id, message: too long"
    )


def test_a_runs_deliveries_are_one_click_away_in_the_log(sqlite_warehouse, fake, client):
    # Given a source synced twice, person 2 changed in between
    sqlite_warehouse.people(3)
    destination = batching_destination()
    source = make_warehouse_source(sqlite_warehouse.url, destination)
    sync(source)
    sqlite_warehouse.execute("UPDATE people SET plan = 'pro' WHERE id = 2")
    second = sync(source)
    # When someone follows the second run's link to its deliveries
    client.force_login(User.objects.create_superuser("root", "root@example.com", "a-long-password-for-tests"))
    page = client.get(f"/admin/warehouse/syncrun/{second.pk}/change/").content.decode()
    (link,) = re.findall(r'href="([^"]+)">its deliveries in the log', page)
    listing = client.get(html.unescape(link))
    # Then the log lists that run's one delivery, and not the first run's three
    assert listing.status_code == 200
    changelist = listing.context["cl"]
    assert [(delivery.person, delivery.source_id) for delivery in changelist.result_list] == [
        ("2", source.source_id)
    ]
