"""Migrations keep every row: a delivery log of a million deliveries goes through the renames intact."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from delivery.models import Delivery, DeliveryAttempt, SentRequest
from destinations.models import Destination, Source

BEFORE = [("delivery", "0003_admin_log_indexes")]
AFTER = [("delivery", "0004_sent_request_and_attempt_names")]
DELIVERIES = 1_000_000
# Every fourth delivery was sent once, with one attempt row linking it to its request.
SENT_EVERY = 4

# Plain SQL in the schema of 0003 (the models have moved on), the same on PostgreSQL and SQLite;
# every statement takes parameters, so % is written %%.
SERIES = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {DELIVERIES})"
OLD_DELIVERIES = f"""{SERIES}
INSERT INTO delivery_delivery (id, event_id, destination_id, source_id, message_type, event_name, person,
  status, next_attempt_at, claimed_by, attempts, reason, created_at, replay_count)
SELECT i, %s, %s, %s, 'track', 'Order Completed', 'person-' || (i %% 5000), 'delivered', %s, '', i %% 4,
       '', %s, 0
FROM n"""
OLD_ATTEMPTS = f"""{SERIES}
INSERT INTO delivery_attempt (id, destination_id, started_at, duration_ms, method, url, request_headers,
  request_body, status_code, response_body, error)
SELECT i, %s, %s, 87, 'PUT', 'https://track.customer.io/api/v1/customers/person-' || (i %% 5000), '{{}}',
       '{{}}', 200, '', ''
FROM n WHERE i %% {SENT_EVERY} = 0"""
OLD_LINKS = f"""{SERIES}
INSERT INTO delivery_deliveryattempt (delivery_id, attempt_id, outcome, error)
SELECT i, i, %s, '' FROM n WHERE i %% {SENT_EVERY} = 0"""


def old_event(cursor, source_id: int, now) -> int:
    cursor.execute(
        "INSERT INTO delivery_event (source_id, message_id, type, user_id, anonymous_id, email,"
        " event_name, payload, received_at, duplicates_dropped)"
        " VALUES (%s, 'm-1', 'track', 'ann', '', '', 'E', '{}', %s, 0)",
        [source_id, now],
    )
    cursor.execute("SELECT id FROM delivery_event WHERE message_id = 'm-1'")
    return cursor.fetchone()[0]


@pytest.fixture
def executor():
    """A migration executor; afterwards the schema is migrated to the newest again, so the tests that
    run later find every table (later migrations add some)."""
    executor = MigrationExecutor(connection)
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_million_deliveries_keep_every_row_and_value_through_the_renames(executor):
    # Given the delivery log at 0003 holding a million deliveries, their attempt counts and sent requests
    executor.migrate(BEFORE)
    source = Source.objects.create(name="web")
    destination = Destination.objects.create(
        name="Customer.io", site_id="site", api_key="0123456789abcdef0123"
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        event_id = old_event(cursor, source.pk, now)
        cursor.execute(OLD_DELIVERIES, [event_id, destination.pk, source.pk, now, now])
        cursor.execute(OLD_ATTEMPTS, [destination.pk, now])
        cursor.execute(OLD_LINKS, ["delivered"])
    # When the renaming migration runs
    executor.loader.build_graph()
    executor.migrate(AFTER)
    # Then every row is there under its new name, with its values
    sent = DELIVERIES // SENT_EVERY
    assert Delivery.objects.count() == DELIVERIES
    assert SentRequest.objects.count() == DeliveryAttempt.objects.count() == sent
    counts = {value: Delivery.objects.filter(attempt_count=value).count() for value in range(4)}
    assert counts == {0: sent, 1: sent, 2: sent, 3: sent}
    # and each attempt still links its delivery to the request that carried it (columns named, as
    # later migrations add delivery columns this schema does not have yet)
    linked = DeliveryAttempt.objects.filter(delivery_id=SENT_EVERY * 7).values_list(
        "sent_request_id", "delivery__attempt_count", "sent_request__url"
    )
    assert list(linked) == [
        (
            SENT_EVERY * 7,
            (SENT_EVERY * 7) % 4,
            f"https://track.customer.io/api/v1/customers/person-{SENT_EVERY * 7 % 5000}",
        )
    ]
    assert destination.sent_requests.count() == sent
