"""A delivery's own page: why it ended as it did, what was sent, what came back, and the person's history."""

from __future__ import annotations

import html
import json
import re

import pytest

from delivery.models import Delivery
from tests.admin.log_fixtures import ago, viewer
from tests.support.factories import make_attempt, make_delivery, make_destination, message, reload

pytestmark = pytest.mark.django_db

SENT = {
    "method": "PUT",
    "endpoint": "https://track.customer.io/api/v1/customers/ann/events",
    "headers": {"Authorization": "[redacted]"},
    "body": {"name": "Order Completed", "data": {"revenue": 42.5}},
}


def detail_url(delivery: Delivery) -> str:
    return f"/admin/delivery/delivery/{delivery.pk}/change/"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).replace("&quot;", '"')


def failed_after_retries() -> Delivery:
    """A track call Customer.io answered 503, then 400: failed, with the reason in words."""
    delivery = make_delivery(
        make_destination(name="Customer.io US"),
        message(user_id="ann"),
        received=ago(minutes=5),
        status="failed",
        attempt_count=2,
        last_status_code=400,
        reason="Customer.io answered 400: attribute names must be under 150 bytes",
        requests=[SENT],
    )
    make_attempt(delivery, status_code=503, outcome="retry", started_at=ago(minutes=4), response_body="busy")
    make_attempt(
        delivery,
        status_code=400,
        outcome="failed",
        started_at=ago(minutes=3),
        duration_ms=142,
        response_body='{"meta":{"error":"attribute names must be under 150 bytes"}}',
    )
    return delivery


def test_the_reason_comes_first_with_the_status(admin_client):
    delivery = failed_after_retries()
    page = admin_client.get(detail_url(delivery)).content.decode()
    badge = page.index('<span class="delivery-badge delivery-failed">Failed</span>')
    reason = page.index("Customer.io answered 400: attribute names must be under 150 bytes")
    # The reason sits above every section of the page
    assert badge < reason < page.index('id="delivery-requests"') < page.index('id="delivery-event"')


def test_a_filtered_delivery_names_its_rule(admin_client):
    delivery = make_delivery(
        make_destination(), status="filtered", reason='the event "Paid" is not in the allowlist'
    )
    response = admin_client.get(detail_url(delivery))
    assert 'the event "Paid" is not in the allowlist' in text(response)
    assert "No request was made: the delivery was filtered before the transformer ran" in text(response)


def shown_json(response, section: str) -> list[str]:
    """The <pre> blocks of one section of the page, as a person reads them."""
    part = response.content.decode().split(f'id="{section}"', 1)[1].split("</div>", 1)[0]
    return [
        html.unescape(block) for block in re.findall(r'<pre class="delivery-json">(.*?)</pre>', part, re.S)
    ]


def test_it_shows_the_event_as_received_and_the_request_sent(admin_client, settings):
    # Given a Customer.io base URL set in the settings (a proxy, say)
    settings.CIO_TRACK_URL_US = "http://cio-proxy.internal:8080"
    delivery = failed_after_retries()
    response = admin_client.get(detail_url(delivery))
    # The event, pretty-printed, as stored
    (event,) = shown_json(response, "delivery-event")
    assert json.loads(event) == delivery.event.payload
    assert f'\n  "messageId": "{delivery.event.message_id}"' in event
    # The request, pretty-printed, with its endpoint and body
    # to the URL it went to: the configured base URL in place of Customer.io's own
    (request,) = shown_json(response, "delivery-requests")
    assert json.loads(request) == {
        **SENT,
        "endpoint": "http://cio-proxy.internal:8080/api/v1/customers/ann/events",
    }
    assert '\n  "endpoint": "http://cio-proxy.internal:8080/api/v1/customers/ann/events"' in request


def test_every_attempt_is_listed_with_its_answer(admin_client):
    delivery = failed_after_retries()
    page = text(admin_client.get(detail_url(delivery)))
    attempts = page.split("Attempts When Duration", 1)[1].split("The event as received", 1)[0]
    first, second = attempts.index("503"), attempts.index("400")
    assert first < second
    assert "Will retry busy" in attempts
    assert "142 ms PUT https://track.customer.io/api/v1/customers/ann 400 Failed" in attempts
    assert '{"meta":{"error":"attribute names must be under 150 bytes"}}' in attempts


def test_authorization_is_never_shown(admin_client):
    # Given a request stored with its Authorization header (as an old row might hold it)
    delivery = make_delivery(
        make_destination(),
        status="failed",
        requests=[{**SENT, "headers": {"authorization": "Basic c2l0ZTpzZWNyZXRrZXk="}}],
    )
    # When its page is shown
    page = admin_client.get(detail_url(delivery)).content.decode()
    # Then the header is there, masked
    assert "c2l0ZTpzZWNyZXRrZXk=" not in page
    assert "&quot;authorization&quot;: &quot;[redacted]&quot;" in page


def test_the_persons_neighbouring_deliveries_are_in_order(admin_client):
    # Given ann's twelve deliveries to one destination, and others' around them
    destination = make_destination()
    other = make_destination(destination.sources.first())
    ann = []
    for index in range(12):
        ann.append(make_delivery(destination, message(user_id="ann", event=f"Step {index}")))
        make_delivery(destination, message(user_id="bob"))
        make_delivery(other, message(user_id="ann"))
    current = ann[6]
    # When the seventh one's page is shown
    response = admin_client.get(detail_url(current))
    section = response.content.decode().split('id="delivery-neighbours"', 1)[1].split("</table>", 1)[0]
    # Then the five before and five after it are listed, in order, with this one highlighted
    listed = [int(pk) for pk in re.findall(r"<tr[^>]*>\s*<td>(?:<a [^>]+>)?(\d+)", section)]
    assert listed == [delivery.pk for delivery in ann[1:12]]
    assert re.search(rf'<tr class="delivery-current">\s*<td>{current.pk} \(this one\)', section)
    assert f'href="/admin/delivery/delivery/{ann[5].pk}/change/"' in section


def test_the_same_events_other_deliveries_are_linked(admin_client):
    delivery = make_delivery(make_destination())
    twin = Delivery.objects.create(
        **{
            field: getattr(delivery, field)
            for field in ("event", "source", "message_type", "event_name", "person", "next_attempt_at")
        },
        destination=make_destination(delivery.source, name="EU workspace"),
        created_at=delivery.created_at,
    )
    section = admin_client.get(detail_url(delivery)).content.decode().split('id="delivery-siblings"')[1]
    assert f'href="/admin/delivery/delivery/{twin.pk}/change/"' in section and "EU workspace" in section


def test_it_links_to_the_event_tester_and_the_destinations_dashboard(admin_client):
    # Given a delivery
    delivery = make_delivery(make_destination())
    # When a person opens it
    content = html.unescape(admin_client.get(detail_url(delivery)).content.decode())
    # Then they can try the same event against the destination (named by this delivery's id, which the
    # tester cannot mistake for an event id), and see how the destination is doing
    tester = f"/admin/tools/event-tester/?event=delivery+{delivery.pk}&destination={delivery.destination_id}"
    assert f'href="{tester}"' in content
    assert f'href="/admin/dashboard/{delivery.destination_id}/"' in content


@pytest.mark.parametrize("object_id", ["999999", "abc", "1.5", "99999999999999999999999"])
def test_an_unknown_delivery_goes_back_to_the_admin(admin_client, object_id):
    response = admin_client.get(f"/admin/delivery/delivery/{object_id}/change/", follow=True)
    assert response.status_code == 200
    assert "doesn\u2019t exist" in response.content.decode()


class TestReplayButton:
    def test_a_failed_delivery_can_be_replayed_from_its_page(self, admin_client):
        delivery = failed_after_retries()
        page = admin_client.get(detail_url(delivery)).content.decode()
        assert f'action="/admin/delivery/delivery/{delivery.pk}/replay/"' in page
        response = admin_client.post(f"/admin/delivery/delivery/{delivery.pk}/replay/", follow=True)
        assert response.status_code == 200
        assert f"Delivery {delivery.pk} replayed: it is pending again." in text(response)
        replayed = reload(delivery)
        assert replayed.status == "pending" and replayed.replay_count == 1
        # And the earlier attempts are still shown
        assert "attribute names must be under 150 bytes" in text(response)

    def test_a_delivered_one_has_no_button_and_a_post_changes_nothing(self, admin_client):
        delivery = make_delivery(
            make_destination(), status="delivered", attempt_count=1, last_status_code=200
        )
        assert "/replay/" not in admin_client.get(detail_url(delivery)).content.decode()
        response = admin_client.post(f"/admin/delivery/delivery/{delivery.pk}/replay/", follow=True)
        assert "only failed or filtered deliveries can be replayed" in text(response)
        assert reload(delivery).status == "delivered"

    def test_the_button_needs_a_post(self, admin_client):
        delivery = failed_after_retries()
        assert admin_client.get(f"/admin/delivery/delivery/{delivery.pk}/replay/").status_code == 405
        assert reload(delivery).status == "failed"

    def test_the_button_needs_the_csrf_token(self, admin_user):
        from django.test import Client

        browser = Client(enforce_csrf_checks=True)
        browser.force_login(admin_user)
        delivery = failed_after_retries()
        assert browser.post(f"/admin/delivery/delivery/{delivery.pk}/replay/").status_code == 403
        assert reload(delivery).status == "failed"

    def test_a_viewer_sees_the_page_but_cannot_replay(self, client):
        client.force_login(viewer())
        delivery = failed_after_retries()
        page = client.get(detail_url(delivery))
        assert page.status_code == 200 and "/replay/" not in page.content.decode()
        assert client.post(f"/admin/delivery/delivery/{delivery.pk}/replay/").status_code == 403
        assert reload(delivery).status == "failed"


def test_non_staff_cannot_see_a_delivery_or_replay_it(client, django_user_model):
    delivery = failed_after_retries()
    client.force_login(django_user_model.objects.create_user("bob", "b@example.com", "a-long-password-1"))
    for response in (client.get(detail_url(delivery)), client.post(detail_url(delivery) + "../replay/")):
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert reload(delivery).status == "failed"
