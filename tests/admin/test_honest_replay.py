"""Replay in the admin says what it does: the order it would break, what it leaves out and why, and a
delivery's page afterwards tells every run; the log cannot be deleted from, and every action is in
the History."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from delivery.models import Delivery
from tests.admin.log_fixtures import LOG_URL, ago
from tests.support.factories import (
    API_KEY,
    identify,
    make_attempt,
    make_delivery,
    make_destination,
    message,
    reload,
    track,
)

pytestmark = pytest.mark.django_db

INSTRUMENTATION = "Instrumentation error: properties must be a JSON object"


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def replay_url(delivery: Delivery) -> str:
    return f"/admin/delivery/delivery/{delivery.pk}/replay/"


def detail_url(delivery: Delivery) -> str:
    return f"/admin/delivery/delivery/{delivery.pk}/change/"


def history(delivery) -> list[str]:
    kind = ContentType.objects.get_for_model(delivery)
    entries = LogEntry.objects.filter(content_type=kind, object_id=str(delivery.pk)).order_by("id")
    return [f"{entry.user.username}: {entry.get_change_message()}" for entry in entries]


def ann_identify_failed_then_tracks_delivered():
    """ann's identify failed 401; her "Signed Up" and "Paid", received after it, were delivered."""
    destination = make_destination()
    failed = make_delivery(
        destination,
        identify("ann"),
        received=ago(minutes=10),
        status="failed",
        attempt_count=1,
        last_status_code=401,
        reason="Customer.io answered 401 (check the site ID and API key)",
    )
    later = [
        make_delivery(destination, track("ann", name), received=ago(minutes=minutes), status="delivered")
        for name, minutes in (("Signed Up", 9), ("Paid", 8))
    ]
    make_delivery(destination, track("bob", "Signed Up"), received=ago(minutes=8), status="delivered")
    return failed, later


class TestOrderWarning:
    def test_replaying_from_the_page_warns_of_the_later_delivered_ones_and_names_them(self, admin_client):
        failed, later = ann_identify_failed_then_tracks_delivered()
        # When the Replay button of the failed identify is pressed
        response = admin_client.post(replay_url(failed))
        # Then nothing is replayed yet: a confirmation warns that two later ones were delivered
        assert response.status_code == 200 and reload(failed).status == "failed"
        page = text(response)
        assert (
            "Order warning: 2 later deliveries of the same person to the same destination were already"
            in page
        )
        assert (
            f"{later[0].pk} track “Signed Up” of ann" in page and f"{later[1].pk} track “Paid” of ann" in page
        )
        assert "bob" not in page
        assert "Replay 1 delivery and the 2 later ones after it, in their original order" in page
        assert 'value="Replay 1 delivery only, out of order"' in response.content.decode()

    def test_replaying_with_the_later_ones_puts_them_all_back_in_order(self, admin_client):
        failed, later = ann_identify_failed_then_tracks_delivered()
        # When the person chooses to replay the later ones too
        form = {"post": "yes", "later": "yes", "_selected_action": [str(failed.pk)]}
        response = admin_client.post(replay_url(failed), form, follow=True)
        # Then all three are pending again, due now, to go in id (received) order
        assert [reload(delivery).status for delivery in (failed, *later)] == ["pending"] * 3
        assert f"Delivery {failed.pk} replayed: it is pending again." in text(response)
        assert "2 of them were later deliveries of the same person, already delivered" in text(response)
        # And each one's History says who replayed it, and why the later ones went again
        assert history(failed) == ["admin: Replayed from its page."]
        assert history(later[0]) == [
            f"admin: Replayed from its page, after delivery {failed.pk}, to keep the person's order."
        ]

    def test_replaying_only_the_one_says_the_order_is_broken(self, admin_client):
        failed, later = ann_identify_failed_then_tracks_delivered()
        form = {"post": "yes", "later": "Replay 1 delivery only, out of order"}
        response = admin_client.post(replay_url(failed), form, follow=True)
        assert reload(failed).status == "pending"
        assert [reload(delivery).status for delivery in later] == ["delivered", "delivered"]
        assert "Out of order: 2 later deliveries of the same person were already delivered" in text(response)
        # And the person's list on its page no longer claims to be "in order"
        assert "deliveries to this destination, in the order received" in text(response)
        assert "in order</h2>" not in response.content.decode()

    def test_a_selection_warns_too_and_replays_the_later_ones_after(self, admin_client):
        failed, later = ann_identify_failed_then_tracks_delivered()
        selection = {"action": "replay_selected", "_selected_action": [str(failed.pk)], "index": "0"}
        confirmation = admin_client.post(LOG_URL, selection)
        assert "Order warning: 2 later deliveries" in text(confirmation)
        ids = re.findall(r'name="_selected_action" value="(\d+)"', confirmation.content.decode())
        form = {"action": "replay_selected", "post": "yes", "later": "yes", "_selected_action": ids}
        done = admin_client.post(LOG_URL, form, follow=True)
        assert "3 deliveries replayed: they are pending again." in text(done)
        assert [reload(delivery).status for delivery in (failed, *later)] == ["pending"] * 3
        assert history(later[1]) == [
            "admin: Replayed from the log's selection, after delivery "
            f"{failed.pk}, to keep the person's order."
        ]


class TestUnchangeable:
    def test_instrumentation_errors_are_left_out_with_a_count_and_the_reason(self, admin_client):
        destination = make_destination()
        wrong = [
            make_delivery(destination, message(user_id=f"w{n}"), status="failed", reason=INSTRUMENTATION)
            for n in range(2)
        ]
        answered = make_delivery(
            destination, message(user_id="ok"), status="failed", reason="Customer.io answered 400"
        )
        ids = [str(delivery.pk) for delivery in (*wrong, answered)]
        confirmation = admin_client.post(
            LOG_URL, {"action": "replay_selected", "_selected_action": ids, "index": "0"}
        )
        page = text(confirmation)
        assert "1 can be replayed (failed or filtered)" in page
        assert "2 are left out: the event itself is wrong (an instrumentation error)" in page
        assert 'value="Replay 1 delivery"' in confirmation.content.decode()
        done = admin_client.post(
            LOG_URL, {"action": "replay_selected", "post": "yes", "_selected_action": ids}, follow=True
        )
        assert "1 delivery replayed: it is pending again." in text(done)
        assert [reload(delivery).status for delivery in wrong] == ["failed", "failed"]
        assert reload(answered).status == "pending"

    def test_an_instrumentation_error_has_no_replay_button_and_is_refused_with_why(self, admin_client):
        wrong = make_delivery(make_destination(), status="failed", reason=INSTRUMENTATION)
        assert replay_url(wrong) not in admin_client.get(detail_url(wrong)).content.decode()
        response = admin_client.post(replay_url(wrong), follow=True)
        assert f"Delivery {wrong.pk} is left out: the event itself is wrong" in text(response)
        assert reload(wrong).status == "failed" and history(wrong) == []


def test_after_a_replay_the_page_tells_every_run_consistently(admin_client):
    # Given a delivery that failed 401 at its first attempt, was replayed by admin, and was delivered
    delivery = make_delivery(
        make_destination(), message(user_id="ann"), received=ago(minutes=30), status="failed", reason="401"
    )
    make_attempt(delivery, status_code=401, outcome="failed", started_at=ago(minutes=29))
    Delivery.objects.filter(pk=delivery.pk).update(attempt_count=1, first_attempt_at=ago(minutes=29))
    admin_client.post(replay_url(delivery))
    make_attempt(delivery, status_code=200, outcome="delivered")
    replayed = reload(delivery)
    Delivery.objects.filter(pk=delivery.pk).update(
        status="delivered",
        attempt_count=2,
        run_attempt_count=1,
        run_first_attempt_at=replayed.replayed_at,
        last_status_code=200,
    )
    # When its page is opened
    response = admin_client.get(detail_url(delivery))
    page = text(response)
    # Then the summary counts both runs' attempts and names the first ever, as the table lists them
    assert "Attempts 2 in all runs, 1 since the last replay, last answer 200" in page
    assert re.search(r"First attempt \S.* \(first since the last replay: ", page)
    rows = response.context["attempts"]
    assert [(row["kind"], row["run"], row["current_run"]) for row in rows] == [
        ("attempt", 1, False),
        ("replay", 2, True),
        ("attempt", 2, True),
    ]
    assert [row.get("status_code") for row in rows] == [401, None, 200]
    assert "Replayed by admin : run 2 starts (the current run)" in page
    assert "Replayed 1 time, last" in page and "by admin" in page


class TestNoDelete:
    def test_a_delivery_cannot_be_deleted_from_the_admin(self, admin_client):
        delivery = make_delivery(make_destination(), status="delivered")
        # Its page has no Delete button, the log no delete action, and the delete view is refused
        assert "deletelink" not in admin_client.get(detail_url(delivery)).content.decode()
        assert "delete_selected" not in admin_client.get(LOG_URL).content.decode()
        assert admin_client.get(f"/admin/delivery/delivery/{delivery.pk}/delete/").status_code == 403
        assert (
            admin_client.post(f"/admin/delivery/delivery/{delivery.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        forced = {"action": "delete_selected", "post": "yes", "_selected_action": [str(delivery.pk)]}
        admin_client.post(LOG_URL, forced)
        assert Delivery.objects.filter(pk=delivery.pk).exists()


class TestHistory:
    def test_the_history_page_shows_a_replay_with_who_and_when(self, admin_client):
        delivery = make_delivery(make_destination(), status="failed", reason="Customer.io answered 400")
        admin_client.post(replay_url(delivery))
        page = text(admin_client.get(f"/admin/delivery/delivery/{delivery.pk}/history/"))
        assert "admin" in page and "Replayed from its page." in page
        assert "doesn\u2019t have a change history" not in page

    def test_testing_credentials_is_in_the_destinations_history_without_the_key(self, admin_client, fake):
        destination = make_destination()
        admin_client.post(f"/admin/destinations/destination/{destination.pk}/test-credentials/")
        assert history(destination) == ["admin: Tested the credentials: works."]
        page = admin_client.get(f"/admin/destinations/destination/{destination.pk}/history/")
        assert "Tested the credentials: works." in text(page) and API_KEY not in page.content.decode()

    def test_the_test_credentials_action_is_in_each_destinations_history(self, admin_client, fake):
        chosen = [make_destination(), make_destination()]
        action = {"action": "test_credentials", "_selected_action": [str(d.pk) for d in chosen], "index": "0"}
        admin_client.post("/admin/destinations/destination/", action)
        assert [history(destination) for destination in chosen] == [
            ["admin: Tested the credentials: works."]
        ] * 2

    def test_the_event_testers_send_for_real_is_in_the_new_deliverys_history(self, admin_client):
        destination = make_destination()
        form = {"event": '{"type": "track", "userId": "ann", "event": "Paid"}', "destination": destination.pk}
        admin_client.post("/admin/tools/event-tester/", {**form, "_send": "1"})
        delivery = Delivery.objects.get(destination=destination)
        (entry,) = history(delivery)
        assert entry.startswith("admin: Made by the event tester's Send for real. Sent for real: event ")
