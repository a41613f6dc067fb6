"""The event tester: what a destination would send for an event, without sending it; and sending for real."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from cio_project.log_redaction import MASK
from delivery.models import Delivery, Event
from destinations.customerio import transform
from destinations.models import Source
from destinations.rudderstack_config import transform_config
from destinations.track_api import transport
from tests.support.factories import make_delivery, make_destination, make_source, secret_forms, store_event

pytest_plugins = ["tests.admin.tools_fixtures"]
pytestmark = pytest.mark.django_db

URL = "/admin/tools/event-tester/"


def preview(client: Client, destination_id: int, event: Any = "", stored: str = ""):
    text = event if isinstance(event, str) else json.dumps(event)
    return client.post(
        URL, {"destination": destination_id, "event": text, "stored_event": stored, "_preview": "1"}
    )


def page_text(response) -> str:
    """The page's text as a reader sees it: no tags, entities decoded, runs of white space as one."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def words(text: str) -> str:
    return " ".join(text.split())


def expected_requests(message: dict, destination) -> list[dict]:
    """What the engine's own calls make of the event: the transformer, the HTTP module's URL and headers."""
    config = transform_config(destination)
    return [
        {
            "method": request.method,
            "url": transport.resolve_url(request.endpoint),
            "headers": transport.redacted_headers(transport.wire_headers(request.headers)),
            "body": json.dumps(request.body, indent=2, ensure_ascii=False),
        }
        for request in transform(message, config)
    ]


def assert_shows(response, requests: list[dict]) -> None:
    text = page_text(response)
    for request in requests:
        assert f"{request['method']} {request['url']}" in text
        assert words(request["body"]) in text
        for name, value in request["headers"].items():
            assert f"{name} {value}" in text


MESSAGES = {
    "identify": {"type": "identify", "userId": "ann", "traits": {"email": "ann@example.com", "plan": "pro"}},
    "track": {"type": "track", "userId": "ann", "event": "Order Completed", "properties": {"total": 20}},
    "group": {"type": "group", "userId": "ann", "groupId": "acme", "traits": {"name": "Acme"}},
    "alias": {"type": "alias", "userId": "ann", "previousId": "anon-1"},
    "record": {"type": "record", "action": "update", "identifiers": {"id": "ann"}, "fields": {"plan": "pro"}},
}


@pytest.mark.parametrize("api_version", ["v1", "v2"])
@pytest.mark.parametrize("kind", list(MESSAGES))
def test_preview_shows_the_exact_requests_and_sends_nothing(superuser_client, fakes, kind, api_version):
    # Given a destination (v1 or v2) and an event of each type
    destination = make_destination(api_version=api_version)
    # When a person previews the event for it
    response = preview(superuser_client, destination.pk, MESSAGES[kind])
    # Then the page shows the request(s) the transformer makes of the event as ingestion fills it in,
    # with the base URL from the settings and Authorization masked
    assert response.status_code == 200
    shown_event = json.loads(response.context["message"])
    assert shown_event["type"] == kind and shown_event["messageId"] and shown_event["receivedAt"]
    requests = expected_requests(shown_event, destination)
    assert requests and all(request["url"].startswith(fakes.us.url) for request in requests)
    assert_shows(response, requests)
    if api_version == "v2":
        assert all(request["url"] == fakes.us.url + "/api/v2/batch" for request in requests)
    assert "Preview: nothing was sent" in page_text(response)
    count = len(requests)
    assert (
        f"Would be sent as {count} request{'s' if count > 1 else ''}: no filter rule stops it"
        in page_text(response)
    )
    # And nothing reached Customer.io, and nothing was stored
    assert fakes.received() == 0
    assert not Event.objects.exists() and not Delivery.objects.exists()


def test_what_the_transformer_leaves_out_is_shown_with_the_request(superuser_client, fakes):
    # given an identify whose createdAt is not a date
    message = {"type": "identify", "userId": "ann", "traits": {"createdAt": "someday", "plan": "pro"}}
    # when it is previewed
    text = page_text(preview(superuser_client, make_destination().pk, message))
    # then the request is shown, and beside it what was left out and why
    assert "Left out of the request: traits.createdAt 'someday' is not a date" in text


def test_an_eu_destination_is_previewed_against_the_eu_host(superuser_client, fakes):
    destination = make_destination(data_center="EU")
    response = preview(superuser_client, destination.pk, MESSAGES["track"])
    text = page_text(response)
    assert f"POST {fakes.eu.url}/api/v1/customers/ann/events" in text
    assert fakes.us.url not in text
    assert fakes.received() == 0


def test_the_api_key_is_in_no_page(superuser_client, fakes):
    # Given a destination with a known API key
    destination = make_destination()
    # When the tester page is opened, an event is previewed, and a form error is shown
    pages = [
        superuser_client.get(URL),
        preview(superuser_client, destination.pk, MESSAGES["identify"]),
        preview(superuser_client, destination.pk, "{not json"),
    ]
    # Then neither the key nor the Basic header that carries it appears, and Authorization is masked
    for page in pages:
        assert page.status_code == 200
        for secret in secret_forms():
            assert secret not in page.content.decode()
    assert pages[1].context["preview"].requests[0].headers["Authorization"] == MASK
    assert f"Authorization</th><td><code>{MASK}</code>" in pages[1].content.decode()


def test_an_event_the_transformer_refuses_is_explained_as_an_instrumentation_error(superuser_client, fakes):
    # Given an identify with only an anonymousId, which the API accepts and Customer.io cannot take
    destination = make_destination()
    response = preview(superuser_client, destination.pk, {"type": "identify", "anonymousId": "a-1"})
    # Then the page says so in words, and that the event is what needs fixing
    text = page_text(response)
    assert "Instrumentation error: userId or email is not present" in text
    assert "The event itself is wrong: fix the tracking code that sends it." in text
    assert fakes.received() == 0


def test_a_destination_without_credentials_is_explained_as_a_configuration_error(superuser_client, fakes):
    destination = make_destination(site_id="")
    text = page_text(preview(superuser_client, destination.pk, MESSAGES["track"]))
    assert "Configuration error: siteID not found in Configs" in text
    assert "The destination's settings are wrong: fix them on the destination." in text


@pytest.mark.parametrize(
    ("fields", "event", "verdict"),
    [
        (
            {"event_filtering": "blacklistedEvents", "denylisted_events": ["Order Completed"]},
            MESSAGES["track"],
            'Filtered by event filtering: "Order Completed" is in the denylist',
        ),
        (
            {"event_filtering": "whitelistedEvents", "allowlisted_events": ["Signed Up"]},
            MESSAGES["track"],
            'Filtered by event filtering: "Order Completed" is not in the allowlist',
        ),
        (
            {"onetrust_cookie_categories": ["Marketing"]},
            {**MESSAGES["track"], "context": {"consentManagement": {"deniedConsentIds": ["Marketing"]}}},
            'Filtered by consent: OneTrust category "Marketing" is denied',
        ),
        (
            {},
            {**MESSAGES["track"], "integrations": {"All": False}},
            'Filtered by the event\'s integrations object: "All" is false',
        ),
        ({"enabled": False}, MESSAGES["track"], "Filtered: the destination was disabled"),
    ],
)
def test_the_filter_verdict_is_the_engines(superuser_client, fakes, fields, event, verdict):
    # Given a destination whose settings filter the event out
    destination = make_destination(**fields)
    # When it is previewed
    text = page_text(preview(superuser_client, destination.pk, event))
    # Then the page says it would be filtered, by which rule, in the engine's words
    assert "Would be filtered:" in text and verdict in text
    # And still shows the request it would make if let through
    assert "Requests (if the filters let it through)" in text
    assert "POST " in text
    assert fakes.received() == 0


def test_a_stored_event_is_picked_by_id_and_by_message_id(superuser_client, fakes):
    # Given a stored event
    destination = make_destination()
    event = store_event(destination.sources.first(), {**MESSAGES["track"], "messageId": "m-42"})
    for reference in (str(event.pk), "m-42"):
        # When it is picked by its id or its messageId
        response = preview(superuser_client, destination.pk, stored=reference)
        # Then it is previewed as stored
        assert response.status_code == 200
        assert json.loads(response.context["message"]) == event.payload
        assert_shows(response, expected_requests(event.payload, destination))


def test_the_delivery_log_can_link_straight_to_a_preview(superuser_client, fakes):
    destination = make_destination()
    event = store_event(destination.sources.first(), MESSAGES["identify"])
    response = superuser_client.get(URL, {"event": event.pk, "destination": destination.pk})
    assert response.status_code == 200
    assert_shows(response, expected_requests(event.payload, destination))
    # And with only the event, the form is filled in and waits for a destination
    response = superuser_client.get(URL, {"event": event.pk})
    assert response.status_code == 200 and response.context["preview"] is None
    assert f'value="{event.pk}"' in response.content.decode()


@pytest.mark.parametrize(
    ("event", "stored", "field", "error"),
    [
        ('{"type": "track",', "", "event", "This is not valid JSON: Expecting property name"),
        ("[1, 2]", "", "event", "An event must be a JSON object ({...}); this is an array."),
        ('"hello"', "", "event", "this is a string."),
        ("null", "", "event", "this is null."),
        ("[" * 100_000, "", "event", "This JSON is nested too deeply to read."),
        (
            '{"type": "track", "userId": "ann"}',
            "",
            "event",
            "The ingestion API would refuse this event: event:",
        ),
        ('{"type": "track", "event": "X"}', "", "event", "neither userId nor anonymousId is set"),
        ("", "", "event", "Paste an event here, or give a stored event's id or messageId below."),
        ("", "999999", "stored_event", 'No delivery, stored event or messageId is "999999"'),
        ("", "9" * 40, "stored_event", "No delivery, stored event or messageId is"),
        ("", "nope", "stored_event", 'No delivery, stored event or messageId is "nope"'),
        (
            "",
            "delivery 999999",
            "stored_event",
            'No delivery, stored event or messageId is "delivery 999999"',
        ),
        ("", "event 99999999999999999999999", "stored_event", "No delivery, stored event or messageId"),
        ('{"type": "identify", "userId": "a"}', "1", "stored_event", "not both"),
    ],
)
def test_bad_input_is_a_form_error_naming_the_field(superuser_client, fakes, event, stored, field, error):
    destination = make_destination()
    if stored == "1":
        stored = str(store_event(destination.sources.first(), MESSAGES["identify"]).pk)
    response = preview(superuser_client, destination.pk, event, stored)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(error in message for message in form.errors[field]), form.errors
    assert "Please correct the error" in page_text(response)
    assert error in page_text(response)
    assert fakes.received() == 0


def test_a_message_id_sent_by_two_sources_asks_for_the_event_id(superuser_client, fakes):
    destination = make_destination()
    first = store_event(destination.sources.first(), {**MESSAGES["track"], "messageId": "same"})
    second = store_event(make_source(), {**MESSAGES["track"], "messageId": "same"})
    response = preview(superuser_client, destination.pk, stored="same")
    assert f"give the event id instead (one of {second.pk}, {first.pk})" in page_text(response)


def test_an_unknown_destination_is_a_form_error(superuser_client, fakes):
    response = preview(superuser_client, 424242, MESSAGES["track"])
    assert response.status_code == 200
    assert "Select a valid choice" in response.context["form"].errors["destination"][0]


def send(client: Client, destination_id: int, event: Any = "", stored: str = ""):
    text = event if isinstance(event, str) else json.dumps(event)
    return client.post(
        URL, {"destination": destination_id, "event": text, "stored_event": stored, "_send": "1"}
    )


def test_send_for_real_stores_the_event_with_one_pending_delivery_and_opens_it(
    superuser_client, fakes, rings, django_capture_on_commit_callbacks
):
    # Given a source that feeds two destinations
    source = make_source("web app")
    chosen, other = make_destination(source), make_destination(source)
    # When an event is sent for real to one of them
    with django_capture_on_commit_callbacks(execute=True):
        response = send(superuser_client, chosen.pk, {**MESSAGES["track"], "messageId": "order-1"})
    # Then the event is stored as ingestion stores it, from the "Event tester" source
    event = Event.objects.get()
    assert event.source.name == "Event tester" and not event.source.enabled
    assert event.message_id == "order-1" and event.event_name == "Order Completed" and event.user_id == "ann"
    assert event.payload["receivedAt"] and event.payload["channel"] == "server"
    # With one pending delivery, for the chosen destination only, and the workers were woken for it
    delivery = Delivery.objects.get()
    assert (delivery.destination, delivery.status, delivery.person) == (chosen, "pending", "ann")
    assert rings == [[chosen.pk]]
    # And the browser is sent to that delivery's page, with a message saying what happened
    assert response.status_code == 302
    assert f"/admin/delivery/delivery/{delivery.pk}/change/" in response["Location"]
    shown = [str(message) for message in response.wsgi_request._messages]
    assert shown == [
        f'Sent for real: event {event.pk} (messageId order-1) is stored from the source "Event tester" '
        f"with one delivery, to {chosen.name}."
    ]
    # And nothing went to Customer.io from the web request
    assert fakes.received() == 0
    assert not Delivery.objects.filter(destination=other).exists()


def test_sending_the_same_event_twice_stores_two_events(superuser_client, fakes, rings):
    destination = make_destination()
    stored = store_event(destination.sources.first(), {**MESSAGES["identify"], "messageId": "same"})
    first = send(superuser_client, destination.pk, stored=f"event {stored.pk}")
    second = send(superuser_client, destination.pk, stored=f"event {stored.pk}")
    assert first.status_code == second.status_code == 302
    tester = Source.objects.get(name="Event tester")
    message_ids = sorted(Event.objects.filter(source=tester).values_list("message_id", flat=True))
    assert len(message_ids) == 2 and "same" in message_ids
    assert Delivery.objects.filter(source=tester, destination=destination, status="pending").count() == 2
    # The first send's message is still waiting to be shown: the redirects were not followed
    assert "so the event got a new one" in str(list(second.wsgi_request._messages)[-1])


def test_send_for_real_refuses_what_the_ingestion_api_refuses(superuser_client, fakes, rings):
    destination = make_destination()
    response = send(superuser_client, destination.pk, {"type": "track", "userId": "ann"})
    assert response.status_code == 200
    assert (
        "The ingestion API would refuse this event: event: track requires a string event name"
        in page_text(response)
    )
    assert not Event.objects.exists()


def test_staff_who_may_only_view_can_preview_but_not_send(viewer_client, fakes, rings):
    # Given staff with view permissions only
    destination = make_destination()
    # Then the tester previews for them, without a send button
    page = preview(viewer_client, destination.pk, MESSAGES["track"])
    assert page.status_code == 200 and "Send for real" not in page.content.decode()
    # And a forged send is refused
    assert send(viewer_client, destination.pk, MESSAGES["track"]).status_code == 403
    assert not Event.objects.exists()


def test_staff_without_view_permissions_are_refused(client, fakes):
    client.force_login(User.objects.create_user("sam", "sam@example.com", "x", is_staff=True))
    assert client.get(URL).status_code == 403


def test_the_admin_index_links_to_the_tools(superuser_client):
    page = superuser_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:event_tester")}"' in page
    assert f'href="{reverse("admin:dashboards")}"' in page
    assert "cio-relay" in page


def test_a_stored_event_is_found_by_what_the_log_shows(superuser_client, fakes):
    # Given a stored event and its delivery, as the log lists it (the delivery id in the first column)
    destination = make_destination()
    delivery = make_delivery(destination, {**MESSAGES["track"], "messageId": "m-log"})
    event = delivery.event
    log = superuser_client.get("/admin/delivery/delivery/").content.decode()
    assert f'<a href="/admin/delivery/delivery/{delivery.pk}/change/">{delivery.pk}</a>' in log
    # When it is given as the delivery id, "delivery N", its messageId, or "event N"
    for reference in (str(delivery.pk), f"delivery {delivery.pk}", f"Delivery #{delivery.pk}", "m-log"):
        response = preview(superuser_client, destination.pk, stored=reference)
        # Then that event is previewed, as stored
        assert response.context["form"].errors == {}, (reference, response.context["form"].errors)
        assert json.loads(response.context["message"]) == event.payload
    response = preview(superuser_client, destination.pk, stored=f"event {event.pk}")
    assert json.loads(response.context["message"]) == event.payload


def test_a_number_is_read_as_a_delivery_id_first_and_the_page_says_so(superuser_client, fakes):
    # Given event B, and a delivery of event A whose id is B's id
    destination = make_destination()
    source = destination.sources.first()
    other = store_event(source, {**MESSAGES["identify"], "messageId": "m-b"})
    delivery = make_delivery(destination, {**MESSAGES["track"], "messageId": "m-a"}, id=other.pk)
    assert delivery.pk == other.pk and delivery.event_id != other.pk
    # When the bare number is given, it is read as the log reads it: the delivery's event
    response = preview(superuser_client, destination.pk, stored=str(other.pk))
    assert json.loads(response.context["message"]) == delivery.event.payload
    # And the page says how it read it
    said = f"The stored event of delivery {delivery.pk} (event {delivery.event_id}), as it was stored."
    assert said in page_text(response)
    # And "event N" picks the other
    by_event = preview(superuser_client, destination.pk, stored=f"event {other.pk}")
    assert json.loads(by_event.context["message"]) == other.payload
    assert f"The stored event of event {other.pk}, as it was stored." in page_text(by_event)


VERDICT_CASES = {
    "sent": ({}, MESSAGES["track"], "send", "Would be sent as 1 request: no filter rule stops it; POST "),
    "failed": (
        {},
        {"type": "identify", "anonymousId": "a-1"},
        "fail",
        "Would fail at once, without a request:",
    ),
    "filtered and failing": (
        {"enabled": False},
        {"type": "identify", "anonymousId": "a-1"},
        "filtered",
        "Would be filtered: Filtered: the destination was disabled",
    ),
}


@pytest.mark.parametrize("case", list(VERDICT_CASES))
def test_the_summary_verdict_agrees_with_the_result(superuser_client, fakes, case):
    fields, event, outcome, summary = VERDICT_CASES[case]
    # Given an event that a destination would send, fail at once, or filter before it could fail
    response = preview(superuser_client, make_destination(**fields).pk, event)
    text = page_text(response)
    # Then the page gives one verdict, the engine's, at the top
    assert response.context["preview"].verdict.outcome == outcome
    verdict = re.search(r'id="tester-verdict">(.*?)</p>', response.content.decode(), re.S)[1]
    assert page_text_of(verdict).startswith(summary), page_text_of(verdict)
    assert text.count("Would be sent") + text.count("Would fail") + text.count("Would be filtered") == 1
    # And a failing event is never said to be sent
    if outcome != "send":
        assert "Would be sent" not in text


def page_text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
