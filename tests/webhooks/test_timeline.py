"""A person's timeline: events, deliveries with Customer.io's answers, and the message activity that
followed, across destinations, in time order and in words; on the admin's person page, from the
delivery log's search and a delivery's page, and from `manage.py person_timeline`."""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from delivery import tasks
from delivery.admin.timeline import timeline
from delivery.engine import sweeper
from delivery.models import Delivery, MessageActivity
from tests.support.factories import (
    delivery_of,
    make_attempt,
    make_delivery,
    make_destination,
    make_source,
    message,
)
from tests.webhooks.examples import SIGNING_KEY, event, post

pytest_plugins = ["tests.admin.tools_fixtures"]
pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
BOUNCED = (
    "Welcome email (email): sent 2026-03-02 10:02:00 UTC, bounced 2026-03-02 10:03:00 UTC: "
    "mailbox does not exist"
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def story(client, settings):
    """Ann's signup: identified anonymously first, sent to two destinations; the welcome email then
    sent and bounced, told by Customer.io's reporting webhook (posted out of order)."""
    settings.TIME_ZONE = "UTC"
    source = make_source("web")
    us = make_destination(source, name="Customer.io US", webhook_signing_key=SIGNING_KEY)
    eu = make_destination(source, name="Customer.io EU")
    anonymous = make_delivery(
        us,
        message("page", user_id="", anonymous_id="anon-1", event="Pricing"),
        received=at(0),
        status=Delivery.Status.DELIVERED,
        attempt_count=1,
        last_status_code=200,
    )
    make_attempt(anonymous, status_code=200, outcome="delivered", started_at=at(0.1))
    signup = make_delivery(
        us,
        {**message("track", user_id="ann", anonymous_id="anon-1", event="Signed Up")},
        received=at(1),
        status=Delivery.Status.DELIVERED,
        attempt_count=2,
        last_status_code=200,
    )
    make_attempt(signup, status_code=503, outcome="retry", started_at=at(1.1))
    make_attempt(signup, status_code=200, outcome="delivered", started_at=at(1.5))
    failed = delivery_of(
        signup.event,
        eu,
        status=Delivery.Status.FAILED,
        reason="Customer.io answered 400: bad attribute",
        attempt_count=1,
        last_status_code=400,
    )
    failed.save()
    # The bounce is posted before the send: the timeline orders by when things happened.
    for metric, minute in (("bounced", 3), ("sent", 2)):
        document = event(
            "email",
            metric,
            customer_id="ann",
            timestamp=int(at(minute).timestamp()),
            subject="Welcome email",
            failure_message="mailbox does not exist" if metric == "bounced" else "",
        )
        assert post(client, us, document).status_code == 200
    other = make_delivery(us, message("track", user_id="bob", event="Signed Up"), received=at(1))
    return {"us": us, "eu": eu, "signup": signup, "failed": failed, "anonymous": anonymous, "other": other}


def test_the_timeline_tells_the_whole_story_in_time_order(story):
    # When ann's timeline is read by her user id
    entries = timeline("ann").entries
    # Then it holds her anonymous page view, her signup and both its deliveries, then the email's story
    summaries = [entry.summary for entry in entries]
    assert summaries == [
        "Received page “Pricing” from source web",
        "Delivered to Customer.io US: Customer.io answered 200 (1 attempt)",
        "Received track “Signed Up” from source web",
        "Delivered to Customer.io US: Customer.io answered 200 (2 attempts)",
        "Failed to Customer.io EU: Customer.io answered 400: bad attribute (1 attempt)",
        BOUNCED,
    ]
    times = [entry.time for entry in entries]
    assert times == sorted(times)
    # And a delivery's attempts say what Customer.io answered each time
    signup = next(entry for entry in entries if entry.fields.get("delivery_id") == story["signup"].pk)
    assert [step.words for step in signup.steps] == [
        "sent 2026-03-02 10:01:06 UTC: Customer.io answered 503 in 87 ms (retry)",
        "sent 2026-03-02 10:01:30 UTC: Customer.io answered 200 in 87 ms (delivered)",
    ]
    # And bob's delivery is not in it
    assert story["other"].pk not in {entry.fields.get("delivery_id") for entry in entries}


@pytest.mark.parametrize("term", ["ann", "anon-1", "ann@example.com", "cioann"])
def test_every_identifier_of_the_person_finds_the_same_timeline(story, term):
    summaries = [entry.summary for entry in timeline(term).entries]
    assert "Received page “Pricing” from source web" in summaries
    assert any(summary.startswith("Welcome email (email): sent") for summary in summaries)


def test_the_person_page_shows_the_timeline_with_links(story, superuser_client):
    response = superuser_client.get(reverse("admin:person"), {"q": "ann"})
    assert response.status_code == 200
    text = page_text(response)
    assert BOUNCED in text
    assert "Failed to Customer.io EU: Customer.io answered 400: bad attribute" in text
    assert "sent 2026-03-02 10:01:06 UTC: Customer.io answered 503 in 87 ms (retry)" in text
    content = response.content.decode()
    assert reverse("admin:delivery_delivery_change", args=[story["failed"].pk]) in content
    row = MessageActivity.objects.get(metric="bounced")
    assert reverse("admin:delivery_messageactivity_change", args=[row.pk]) in content


def test_the_person_page_says_when_nothing_is_stored(superuser_client):
    response = superuser_client.get(reverse("admin:person"), {"q": "nobody"})
    assert response.status_code == 200
    assert "Nothing is stored about nobody" in page_text(response)
    assert superuser_client.get(reverse("admin:person")).status_code == 200


def test_the_person_page_needs_a_login(client):
    response = client.get(reverse("admin:person"), {"q": "ann"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_log_search_and_a_deliverys_page_link_to_the_person(story, superuser_client):
    person_page = reverse("admin:person") + "?q=ann"
    log = superuser_client.get(reverse("admin:delivery_delivery_changelist"), {"q": "ann"})
    assert person_page in log.content.decode()
    detail = superuser_client.get(reverse("admin:delivery_delivery_change", args=[story["signup"].pk]))
    assert person_page in detail.content.decode()


def test_an_activity_rows_page_shows_the_raw_body(story, superuser_client):
    row = MessageActivity.objects.get(metric="bounced")
    response = superuser_client.get(reverse("admin:delivery_messageactivity_change", args=[row.pk]))
    assert response.status_code == 200
    assert "mailbox does not exist" in page_text(response)
    listing = superuser_client.get(reverse("admin:delivery_messageactivity_changelist"), {"q": "ann"})
    assert listing.status_code == 200 and "Welcome email" in page_text(listing)


def test_person_timeline_prints_the_same_timeline(story):
    out = io.StringIO()
    call_command("person_timeline", "ann", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "2026-03-02 10:00:00 UTC event: Received page “Pricing” from source web"
    assert lines[-1] == ("2026-03-02 10:02:00 UTC message [Customer.io US]: " + BOUNCED)
    assert "    sent 2026-03-02 10:01:30 UTC: Customer.io answered 200 in 87 ms (delivered)" in lines


def test_person_timeline_json_is_one_object_a_line(story):
    out = io.StringIO()
    call_command("person_timeline", "ann", "--json", stdout=out)
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [entry["kind"] for entry in entries] == [
        "event",
        "delivery",
        "event",
        "delivery",
        "delivery",
        "message",
    ]
    assert [entry["time"] for entry in entries] == sorted(entry["time"] for entry in entries)
    message = entries[-1]
    assert message["destination"] == "Customer.io US"
    assert (message["channel"], message["customer_id"], message["email"]) == (
        "email",
        "ann",
        "ann@example.com",
    )
    assert (message["campaign_id"], message["cio_delivery_id"]) == ("5", "RPILAgABcRhIBqSp7kiPekGBIeVh")
    assert [(row["metric"], row["reason"]) for row in message["activity"]] == [
        ("sent", ""),
        ("bounced", "mailbox does not exist"),
    ]


def test_person_timeline_says_when_nothing_is_stored(db):
    out = io.StringIO()
    call_command("person_timeline", "nobody", stdout=out)
    assert out.getvalue().strip() == "Nothing is stored about 'nobody'."


def test_the_dashboard_counts_activity_by_metric_over_24_hours_and_7_days(client, superuser_client):
    destination = make_destination(webhook_signing_key=SIGNING_KEY)
    now = timezone.now()
    for metric, hours_ago in (("sent", 1), ("sent", 30), ("delivered", 2), ("opened", 200)):
        stamp = int((now - timedelta(hours=hours_ago)).timestamp())
        assert post(client, destination, event("email", metric, timestamp=stamp)).status_code == 200
    response = superuser_client.get(reverse("admin:destination_dashboard", args=[destination.pk]))
    rows = {
        (row.channel, row.metric): (row.last_24_hours, row.last_7_days)
        for row in response.context["message_activity"]
    }
    assert rows == {("Email", "delivered"): (1, 1), ("Email", "sent"): (1, 2)}
    assert "Message activity, from Customer.io's reporting webhooks" in page_text(response)


def test_retention_deletes_old_activity_in_batches(client, settings):
    settings.DELIVERY_RETENTION_BATCH = 2
    destination = make_destination(webhook_signing_key=SIGNING_KEY)
    for _ in range(4):
        assert post(client, destination, event()).status_code == 200
    MessageActivity.objects.filter(
        pk__in=list(MessageActivity.objects.values_list("pk", flat=True)[:3])
    ).update(received_at=timezone.now() - timedelta(seconds=settings.DELIVERY_RETENTION_SECONDS + 60))
    assert [sweeper.delete_old_message_activity() for _ in range(3)] == [2, 1, 0]
    assert MessageActivity.objects.count() == 1


def test_activity_in_the_same_second_is_told_in_the_order_a_message_lives(client):
    destination = make_destination(webhook_signing_key=SIGNING_KEY)
    stamp = int(timezone.now().timestamp())
    for metric in ("clicked", "bounced", "opened", "sent", "delivered"):
        assert post(client, destination, event("email", metric, timestamp=stamp)).status_code == 200
    (entry,) = timeline("ann").entries
    assert [step.words.split()[0] for step in entry.steps] == [
        "sent",
        "delivered",
        "opened",
        "clicked",
        "bounced",
    ]


def test_events_of_the_same_moment_keep_the_order_they_were_received_in_with_their_deliveries(db):
    destination = make_destination()
    now = timezone.now()
    first = make_delivery(destination, message("identify", user_id="cy"), received=now)
    second = make_delivery(destination, message("track", user_id="cy", event="Paid"), received=now)
    kinds = [(entry.kind, entry.fields.get("delivery_id")) for entry in timeline("cy").entries]
    assert kinds == [("event", None), ("delivery", first.pk), ("event", None), ("delivery", second.pk)]


def test_the_retention_task_goes_on_while_old_activity_is_left(client, settings, monkeypatch):
    # Given three old activity rows, no old delivery, and retention taking two rows at a time
    settings.DELIVERY_RETENTION_BATCH = 2
    destination = make_destination(webhook_signing_key=SIGNING_KEY)
    for _ in range(3):
        assert post(client, destination, event()).status_code == 200
    MessageActivity.objects.update(received_at=timezone.now() - timedelta(days=400))
    requeued = []
    monkeypatch.setattr(tasks.delete_old_deliveries, "delay", lambda: requeued.append(True))
    # When the periodic task runs, and again each time it re-queues itself
    tasks.delete_old_deliveries()
    while requeued:
        requeued.pop()
        tasks.delete_old_deliveries()
    # Then every old row is gone
    assert MessageActivity.objects.count() == 0
