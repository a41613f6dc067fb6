"""A source's live events and refused requests, the last event on the source pages, and the warning on a
source that feeds no destination."""

from __future__ import annotations

import base64
import html
import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from delivery.admin.source_activity import NO_DESTINATION
from delivery.ingestion import sources
from delivery.models import Delivery, RefusalCount
from destinations.models import Source
from tests.admin.config_fixtures import admin_url, page
from tests.support.factories import delivery_of, make_destination, make_source, message, store_event

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:destinations_source_changelist")


def live_url(source: Source) -> str:
    return reverse("admin:live_events", args=[source.pk])


def events_json(client: Client, source: Source, **query: int) -> dict:
    response = client.get(reverse("admin:live_events_data", args=[source.pk]), query)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return response.json()


def refused_json(client: Client, source: Source | None) -> dict:
    url = (
        reverse("admin:live_refused_data", args=[source.pk])
        if source
        else reverse("admin:live_refused_data_unknown")
    )
    response = client.get(url)
    assert response.status_code == 200
    return response.json()


def post_event(client: Client, source: Source, body: dict, path: str = "/v1/track", **headers: str):
    sources.forget_all()
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def basic(source_or_key: Source | str) -> str:
    key = source_or_key if isinstance(source_or_key, str) else source_or_key.write_key
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


@pytest.fixture
def idle(db) -> Source:
    """A source that feeds no destination."""
    return make_source("Website")


# The live view


def test_an_event_no_destination_receives_is_listed_plainly(admin_client, client, idle):
    # Given a source with no destination, and an SDK sending it an event
    response = post_event(
        client, idle, {"userId": "ada", "event": "Order Completed"}, HTTP_AUTHORIZATION=basic(idle)
    )
    assert response.status_code == 200
    # When an admin opens its live view
    live = admin_client.get(live_url(idle))
    assert live.status_code == 200
    assert "Live events: Website" in page(live)
    assert f'data-events-url="{reverse("admin:live_events_data", args=[idle.pk])}"' in page(live)
    # Then the page's data lists the event, routed to no destination
    [event] = events_json(admin_client, idle)["events"]
    assert (event["type"], event["event_name"], event["user_id"]) == ("track", "Order Completed", "ada")
    assert event["destinations"] == 0 and event["destinations_text"] == "no destination"
    assert event["log_url"] == ""
    assert event["user_url"] == "/admin/person/?q=ada"
    assert event["received"].endswith(" UTC") and len(event["received"]) == len("2026-01-01 10:00:00 UTC")


def test_an_event_routed_to_destinations_says_how_many_and_links_to_its_deliveries(admin_client):
    source = make_source("App")
    first, second = make_destination(source), make_destination(source)
    event = store_event(source, message(anonymous_id="visitor-1", user_id=""))
    delivery_of(event, first).save()
    delivery_of(event, second, status=Delivery.Status.FILTERED).save()
    [row] = events_json(admin_client, source)["events"]
    assert row["destinations"] == 2 and row["destinations_text"] == "2 destinations"
    assert row["destinations_detail"] == "1 filtered, 1 pending"
    assert row["log_url"] == f"/admin/delivery/delivery/?q={event.message_id}"
    assert row["anonymous_url"] == "/admin/person/?q=visitor-1" and row["user_url"] == ""


def test_the_events_page_newest_first_and_pages_by_id(admin_client, idle):
    # Given 120 events of the source, and events of another source
    other = make_source("Other")
    store_event(other, message(event="Not mine"))
    events = [store_event(idle, message(event=f"E{index}")) for index in range(120)]
    # When the first page is asked for, then the one before its oldest
    first = events_json(admin_client, idle)
    second = events_json(admin_client, idle, before=first["events"][-1]["id"])
    third = events_json(admin_client, idle, before=second["events"][-1]["id"])
    # Then each is a page of the newest first, and the last says there is no more
    names = [row["event_name"] for row in first["events"] + second["events"] + third["events"]]
    assert names == [f"E{index}" for index in reversed(range(120))]
    assert (first["more"], second["more"], third["more"]) == (True, True, False)
    # And polling after the newest shown gives only what is newer
    assert events_json(admin_client, idle, after=events[-1].pk) == {"events": [], "more": False}
    newer = events_json(admin_client, idle, after=events[-3].pk)["events"]
    assert [row["event_name"] for row in newer] == ["E119", "E118"]


def test_the_events_page_costs_the_same_few_queries_however_many_events(
    admin_client, idle, django_assert_max_num_queries
):
    destination = make_destination(idle)
    for index in range(60):
        delivery_of(store_event(idle, message(event=f"E{index}")), destination).save()
    # (session, user, source, the page of events, their deliveries)
    with django_assert_max_num_queries(6):
        assert len(events_json(admin_client, idle)["events"]) == 50


def test_the_payload_is_shown_on_request_and_only_for_its_source(admin_client, idle):
    event = store_event(idle, {**message(event="Signed Up"), "properties": {"plan": "pro"}})
    url = reverse("admin:live_event_payload", args=[idle.pk, event.pk])
    answer = admin_client.get(url)
    assert answer.status_code == 200
    assert answer.json()["payload"]["properties"] == {"plan": "pro"}
    [row] = events_json(admin_client, idle)["events"]
    assert row["payload_url"] == url
    other = make_source("Other")
    assert admin_client.get(reverse("admin:live_event_payload", args=[other.pk, event.pk])).status_code == 404


def test_no_write_key_reaches_the_live_view(admin_client, client, idle):
    post_event(client, idle, {"userId": "ada", "event": "E", "writeKey": idle.write_key})
    [row] = events_json(admin_client, idle)["events"]
    payload = admin_client.get(row["payload_url"])
    pages = [page(admin_client.get(live_url(idle))), page(payload), json.dumps(row)]
    assert all(idle.write_key not in text for text in pages)


def test_only_staff_who_may_see_sources_and_the_log_watch_a_source(client, idle):
    # Given a staff member who may see sources, but not the delivery log
    user = User.objects.create_user("sam", "sam@example.com", "a-long-password-for-tests", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_source", "view_destination"]))
    client.force_login(user)
    assert client.get(live_url(idle)).status_code == 403
    assert client.get(reverse("admin:live_events_data", args=[idle.pk])).status_code == 403
    # And once they may see the log too, they may
    user.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    assert client.get(live_url(idle)).status_code == 200
    client.logout()
    assert client.get(live_url(idle)).status_code == 302


def test_an_unknown_source_is_a_404(admin_client):
    assert admin_client.get(reverse("admin:live_events", args=[999])).status_code == 404


# Refused requests


def test_refused_requests_are_listed_with_counts_by_reason_over_24_hours(admin_client, client, idle):
    # Given refusals of the source now, and some older than a day
    post_event(client, idle, {"userId": "ada"}, HTTP_AUTHORIZATION=basic(idle))
    post_event(client, idle, {"userId": "bob", "event": 7}, HTTP_AUTHORIZATION=basic(idle))
    old = (timezone.now() - timedelta(hours=30)).replace(minute=0, second=0, microsecond=0)
    RefusalCount.objects.create(source=idle, hour=old, status=413, code="payload_too_large", count=9)
    # When the live view's refused data is read
    refused = refused_json(admin_client, idle)
    # Then it counts the last 24 hours by reason, and lists the examples newest first
    assert refused["counts"] == [{"status": 400, "code": "invalid_request", "count": 2}]
    assert refused["total"] == 2
    assert [example["message"] for example in refused["examples"]] == [
        "event: track requires a string event name",
        "event: track requires a string event name",
    ]
    assert json.loads(refused["examples"][0]["body"]) == {"userId": "bob", "event": 7}
    assert idle.write_key not in json.dumps(refused)


def test_refusals_without_a_source_have_their_page(admin_client, client, idle):
    post_event(client, idle, {"userId": "ada", "event": "E"}, HTTP_AUTHORIZATION=basic("no-such-key-123456"))
    page_html = page(admin_client.get(reverse("admin:live_events_unknown")))
    assert "Refused requests with a missing or unknown write key" in page_html
    refused = refused_json(admin_client, None)
    assert refused["counts"] == [{"status": 401, "code": "invalid_write_key", "count": 1}]
    assert refused["examples"][0]["path"] == "/v1/track"
    assert "no-such-key-123456" not in json.dumps(refused)
    assert refused_json(admin_client, idle)["counts"] == []


# The source pages


def test_the_sources_list_shows_the_last_event_and_warns_of_a_source_feeding_nothing(admin_client, idle):
    # Given a source that feeds a destination, one that feeds none, and one whose only destination is off
    fed = make_source("App")
    make_destination(fed)
    off = make_source("Legacy")
    make_destination(off, enabled=False)
    store_event(idle, message(event="first"), received_at=timezone.now() - timedelta(hours=2))
    latest = store_event(idle, message(event="second"), received_at=timezone.now() - timedelta(minutes=5))
    # When an admin opens the list
    text = html.unescape(page(admin_client.get(LIST_URL)))
    # Then each source's last event is shown to the second, with a link to its live events
    assert timezone.localtime(latest.received_at).strftime("%Y-%m-%d %H:%M:%S UTC") in text
    assert f'href="{live_url(idle)}">Live events</a>' in text and "never" in text
    # And the sources that feed no enabled destination are warned about, with a way to add one
    assert text.count(NO_DESTINATION) == 2
    assert f'href="/admin/destinations/destination/add/?sources={idle.pk}">Add a destination</a>' in text
    assert f'href="/admin/destinations/destination/add/?sources={off.pk}">Add a destination</a>' in text
    assert f"?sources={fed.pk}" not in text


def test_the_sources_list_reads_the_last_event_per_source_through_one_query(
    admin_client, django_assert_max_num_queries
):
    for number in range(8):
        source = make_source(f"source {number}")
        for _ in range(3):
            store_event(source, message())
    with django_assert_max_num_queries(10):
        text = page(admin_client.get(LIST_URL))
    assert text.count(" UTC</time>") == 8


def test_the_sources_list_points_to_refusals_of_unknown_keys(admin_client, client, idle):
    assert "missing or unknown write key" not in page(admin_client.get(LIST_URL))
    post_event(client, idle, {"userId": "ada", "event": "E"}, HTTP_AUTHORIZATION=basic("no-such-key-123456"))
    text = " ".join(page(admin_client.get(LIST_URL)).split())
    assert "1 request with a missing or unknown write key refused in the last 24 hours." in text
    assert f'href="{reverse("admin:live_events_unknown")}">See them</a>' in text


def test_the_source_page_warns_shows_the_last_event_and_counts_refusals(admin_client, client, idle):
    # Given a source that feeds nothing, with an event and two refusals
    event = store_event(idle, message(event="Signed Up"))
    post_event(client, idle, {"userId": "ada"}, HTTP_AUTHORIZATION=basic(idle))
    post_event(client, idle, {"userId": "ada"}, HTTP_AUTHORIZATION=basic(idle))
    # When an admin opens its page
    text = html.unescape(page(admin_client.get(admin_url(idle, "change"))))
    # Then it warns, says when the last event came, counts the refusals, and links to the live view
    assert f'role="alert">{NO_DESTINATION}' in text
    assert timezone.localtime(event.received_at).strftime("%Y-%m-%d %H:%M:%S UTC") in text
    assert "<strong>2</strong> (400 <code>invalid_request</code>: 2)" in text
    assert text.count(f'href="{live_url(idle)}"') >= 2
    assert idle.write_key not in text


def test_a_fed_source_page_has_no_warning_and_no_refusals(admin_client):
    source = make_source("App")
    make_destination(source)
    text = page(admin_client.get(admin_url(source, "change")))
    assert NO_DESTINATION not in text and 'role="alert"' not in text
    assert "Refused (last 24 hours)" in text and "none" in text
