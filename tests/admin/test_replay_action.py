"""Replaying a selection of deliveries from the log: a confirmation that counts, then the replay."""

from __future__ import annotations

import re

import pytest

from tests.admin.log_fixtures import LOG_URL, viewer
from tests.support.factories import make_delivery, make_destination, message, reload

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def mixed() -> dict[str, list]:
    """Deliveries of seven people, one each, so no replay changes anyone's order."""
    destination = make_destination()
    people = iter(range(100))
    return {
        status: [
            make_delivery(destination, message(user_id=f"p{next(people)}"), status=status, reason="x")
            for _ in range(count)
        ]
        for status, count in (("failed", 2), ("filtered", 1), ("delivered", 3), ("pending", 1))
    }


def select(deliveries: dict[str, list], **extra: str) -> dict:
    ids = [str(delivery.pk) for group in deliveries.values() for delivery in group]
    return {"action": "replay_selected", "_selected_action": ids, **extra}


def test_the_confirmation_says_how_many_will_be_replayed_and_skipped(admin_client):
    # Given seven selected deliveries: two failed, one filtered, three delivered and one pending
    deliveries = mixed()
    # When "Retry / replay selected deliveries" is chosen
    response = admin_client.post(LOG_URL, {**select(deliveries), "index": "0"})
    # Then a confirmation page counts them, and nothing has changed yet
    assert response.status_code == 200
    page = text(response)
    assert "You selected 7 deliveries." in page
    assert "3 can be replayed (failed or filtered)" in page
    assert "4 will be skipped (delivered, pending or retrying)" in page
    assert 'value="Replay 3 deliveries"' in response.content.decode()
    assert all(reload(delivery).status == "failed" for delivery in deliveries["failed"])


def test_confirming_replays_the_failed_and_filtered_ones_only(admin_client):
    deliveries = mixed()
    # When the confirmation is accepted
    response = admin_client.post(LOG_URL, select(deliveries, post="yes"), follow=True)
    # Then the failed and filtered ones are pending again, and the page says how many
    assert response.status_code == 200
    assert "3 deliveries replayed: they are pending again." in text(response)
    for delivery in deliveries["failed"] + deliveries["filtered"]:
        replayed = reload(delivery)
        assert (replayed.status, replayed.reason, replayed.replay_count) == ("pending", "", 1)
    # And the delivered and pending ones are untouched
    for delivery in deliveries["delivered"] + deliveries["pending"]:
        assert (reload(delivery).status, reload(delivery).replay_count) == (delivery.status, 0)
    # And the log marks the replayed ones
    assert text(response).count("replayed") >= 3


def test_the_action_applies_to_all_matching_deliveries_across_pages(admin_client):
    deliveries = mixed()
    data = {"action": "replay_selected", "select_across": "1", "index": "0", "_selected_action": "1"}
    response = admin_client.post(LOG_URL + "?status__exact=failed", data)
    assert "You selected 2 deliveries." in text(response)
    assert "2 can be replayed" in text(response)
    confirmed = admin_client.post(
        LOG_URL + "?status__exact=failed",
        {
            "action": "replay_selected",
            "post": "yes",
            "_selected_action": re.findall(
                r'name="_selected_action" value="(\d+)"', response.content.decode()
            ),
        },
        follow=True,
    )
    assert "2 deliveries replayed" in text(confirmed)
    assert reload(deliveries["filtered"][0]).status == "filtered"


def test_nothing_replayable_says_so(admin_client):
    deliveries = {"delivered": [make_delivery(make_destination(), status="delivered")]}
    response = admin_client.post(LOG_URL, {**select(deliveries), "index": "0"})
    assert "Nothing to replay: only failed or filtered deliveries can be sent again." in text(response)
    assert "Replay 0" not in text(response)


def test_a_viewer_is_not_offered_the_action(client):
    client.force_login(viewer())
    deliveries = mixed()
    assert "replay_selected" not in client.get(LOG_URL).content.decode()
    response = client.post(LOG_URL, select(deliveries, post="yes"))
    assert reload(deliveries["failed"][0]).status == "failed"
    assert response.status_code in (200, 302)


def test_a_non_staff_user_cannot_replay(client, django_user_model):
    deliveries = mixed()
    client.force_login(django_user_model.objects.create_user("bob", "b@example.com", "a-long-password-1"))
    response = client.post(LOG_URL, select(deliveries, post="yes"))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert reload(deliveries["failed"][0]).status == "failed"


def test_a_huge_selection_is_replayed_in_runs_of_the_limit(admin_client, monkeypatch):
    # Given more failed deliveries than one replay takes (two, here)
    monkeypatch.setattr("delivery.admin.log.REPLAY_LIMIT", 2)
    destination = make_destination()
    failed = [make_delivery(destination, status="failed") for _ in range(3)]
    # When all are selected
    response = admin_client.post(LOG_URL, {**select({"failed": failed}), "index": "0"})
    # Then the confirmation says that the oldest two go now, and one is left for another run
    assert "2 can be replayed" in text(response)
    assert "1 more failed or filtered one is left for another run: at most 2 are replayed at once." in text(
        response
    )
    ids = re.findall(r'name="_selected_action" value="(\d+)"', response.content.decode())
    assert ids == [str(failed[0].pk), str(failed[1].pk)]
