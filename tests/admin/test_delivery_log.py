"""The delivery log's list: what each row says, the filters, the search, and what it costs to show."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cio_project.times import exact_time
from delivery.models import Delivery
from destinations.models import Source
from tests.admin.log_fixtures import LOG_URL, ago
from tests.support.factories import make_delivery, make_destination, message

pytestmark = pytest.mark.django_db


def rows(response) -> list[str]:
    """The text of each result row of the list, tags stripped."""
    html = response.content.decode()
    if 'id="result_list"' not in html:
        return []
    body = html.split('id="result_list"', 1)[1].split("</tbody>", 1)[0]
    cells = [row.split(">", 1)[1] for row in body.split("<tr")[2:]]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in cells]


def listed_ids(response) -> list[int]:
    return [int(row.split()[0]) for row in rows(response)]


def test_each_row_shows_what_happened_to_the_delivery(admin_client):
    # Given a failed track call to a destination, tried three times, and replayed once
    destination = make_destination(Source.objects.create(name="web app"), name="Customer.io US")
    failed = make_delivery(
        destination,
        message(user_id="ann", event="Order Completed"),
        received=ago(minutes=3),
        status="failed",
        attempt_count=3,
        last_status_code=400,
        replay_count=1,
        replayed_at=ago(minutes=1),
    )
    # When a staff member opens the delivery log
    response = admin_client.get(LOG_URL)
    # Then its row says so, column by column
    assert response.status_code == 200
    (row,) = rows(response)
    received = exact_time(failed.created_at)
    expected = f"Failed track Order Completed ann Customer.io US web app 3, last 400 {received} (3 min ago) "
    expected += "replayed"
    assert row == f"{failed.pk} {expected}"
    # And the status is a red badge
    assert '<span class="delivery-badge delivery-failed">Failed</span>' in response.content.decode()


@pytest.mark.parametrize("status", ["delivered", "filtered", "failed", "retrying", "pending"])
def test_each_status_has_its_own_badge_colour(admin_client, status):
    make_delivery(make_destination(), status=status)
    page = admin_client.get(LOG_URL).content.decode()
    label = dict(Delivery.Status.choices)[status]
    assert f'<span class="delivery-badge delivery-{status}">{label}</span>' in page
    # The colours live in the page's style: green, grey, red, amber, blue
    colour = {"delivered": "#2e7d32", "filtered": "#757575", "failed": "#c62828", "retrying": "#e69500"}
    colour["pending"] = "#1565c0"
    assert re.search(rf"\.delivery-{status} {{ background: {colour[status]};", page)


def test_the_newest_delivery_comes_first(admin_client):
    destination = make_destination()
    older, newer = make_delivery(destination, received=ago(hours=2)), make_delivery(destination)
    assert listed_ids(admin_client.get(LOG_URL)) == [newer.pk, older.pk]


class TestFilters:
    def test_by_status(self, admin_client):
        destination = make_destination()
        failed = make_delivery(destination, status="failed")
        make_delivery(destination, status="delivered")
        assert listed_ids(admin_client.get(LOG_URL, {"status__exact": "failed"})) == [failed.pk]

    def test_by_message_type(self, admin_client):
        destination = make_destination()
        identify = make_delivery(destination, message("identify", event=""))
        make_delivery(destination, message("track"))
        response = admin_client.get(LOG_URL, {"type": "identify"})
        assert listed_ids(response) == [identify.pk]
        assert "By message type" in response.content.decode()

    def test_records_are_a_type_like_the_others(self, admin_client):
        # given a warehouse row's delivery beside a track call's
        destination = make_destination()
        row = {"type": "record", "action": "update", "identifiers": {"id": "zoe"}, "fields": {"plan": "pro"}}
        record = make_delivery(destination, row)
        make_delivery(destination, message("track"))
        # then the type filter offers records and finds it, and the row shows its type and person
        response = admin_client.get(LOG_URL, {"type": "record"})
        assert listed_ids(response) == [record.pk]
        assert "?type=record" in response.content.decode()
        assert listed_ids(admin_client.get(LOG_URL, {"q": "zoe"})) == [record.pk]

    def test_by_destination(self, admin_client):
        source = Source.objects.create(name="web")
        mine, other = make_destination(source, name="mine"), make_destination(source, name="other")
        wanted = make_delivery(mine)
        make_delivery(other)
        assert listed_ids(admin_client.get(LOG_URL, {"destination__id__exact": mine.pk})) == [wanted.pk]

    def test_by_source(self, admin_client):
        destination = make_destination()
        app = Source.objects.create(name="app")
        from_app = make_delivery(destination, source=app)
        make_delivery(destination)
        assert listed_ids(admin_client.get(LOG_URL, {"source__id__exact": app.pk})) == [from_app.pk]

    @pytest.mark.parametrize(
        ("window", "expected"),
        [("24h", ["hour"]), ("7d", ["hour", "days"]), ("30d", ["hour", "days", "weeks"]), ("today", None)],
    )
    def test_by_date_received(self, admin_client, window, expected):
        destination = make_destination()
        made = {
            "months": make_delivery(destination, received=ago(days=60)),
            "weeks": make_delivery(destination, received=ago(days=20)),
            "days": make_delivery(destination, received=ago(days=3)),
            "hour": make_delivery(destination, received=ago(hours=1)),
        }
        listed = listed_ids(admin_client.get(LOG_URL, {"received": window}))
        if expected is None:
            # "Today" depends on the time of day; it holds the last hour's one, or nothing yet at 00:30
            assert set(listed) <= {made["hour"].pk} and made["days"].pk not in listed
        else:
            assert listed == [made[name].pk for name in expected]

    @pytest.mark.parametrize(
        "query",
        [
            {"status__exact": "bogus"},
            {"type": "nonsense"},
            {"received": "yesterday-ish"},
            {"destination__id__exact": "abc"},
            {"source__id__exact": "1e9999"},
            {"p": "abc"},
            {"p": "-3"},
            {"p": "999999999999"},
            {"o": "7"},
            {"q": "x" * 5000},
        ],
    )
    def test_bad_values_never_break_the_page(self, admin_client, query):
        make_delivery(make_destination())
        response = admin_client.get(LOG_URL, query, follow=True)
        assert response.status_code == 200


class TestSearch:
    def test_help_text_says_what_a_term_matches(self, admin_client):
        page = admin_client.get(LOG_URL).content.decode()
        assert "The start of a user id or anonymous id (jane finds jane-42" in page
        assert "of an event or page name, or of a messageId, case-sensitive" in page
        assert "or an email address, whatever its case" in page

    def test_by_user_id(self, admin_client):
        destination = make_destination()
        ann = [make_delivery(destination, message(user_id="ann")) for _ in range(2)]
        make_delivery(destination, message(user_id="bob"))
        assert listed_ids(admin_client.get(LOG_URL, {"q": "ann"})) == [ann[1].pk, ann[0].pk]

    def test_by_anonymous_id_finds_the_person_it_became(self, admin_client):
        # Given an anonymous visitor's page view, and their track call once they logged in as "ann"
        destination = make_destination()
        visit = make_delivery(destination, message("page", user_id="", anonymous_id="anon-7", event="Home"))
        later = make_delivery(destination, message(user_id="ann", anonymous_id="anon-7"))
        make_delivery(destination, message(user_id="bob", anonymous_id="anon-8"))
        # When the log is searched for the anonymous id
        listed = listed_ids(admin_client.get(LOG_URL, {"q": "anon-7"}))
        # Then both of that person's deliveries are listed
        assert listed == [later.pk, visit.pk]

    def test_by_email_finds_that_persons_deliveries(self, admin_client):
        destination = make_destination()
        identify = make_delivery(
            destination, message("identify", user_id="ann", email="ann@example.com", event="")
        )
        track = make_delivery(destination, message(user_id="ann"))
        make_delivery(destination, message("identify", user_id="bob", email="bob@example.com", event=""))
        listed = listed_ids(admin_client.get(LOG_URL, {"q": "ann@example.com"}))
        assert listed == [track.pk, identify.pk]

    def test_by_event_name(self, admin_client):
        destination = make_destination()
        paid = make_delivery(destination, message(user_id="bob", event="Paid"))
        make_delivery(destination, message(user_id="bob", event="Signed Up"))
        assert listed_ids(admin_client.get(LOG_URL, {"q": "Paid"})) == [paid.pk]

    def test_by_message_id(self, admin_client):
        destination = make_destination()
        wanted = make_delivery(destination, message(message_id="3d9c-msg"))
        make_delivery(destination)
        assert listed_ids(admin_client.get(LOG_URL, {"q": " 3d9c-msg "})) == [wanted.pk]

    def test_ids_and_names_match_by_their_start_and_case(self, admin_client):
        wanted = make_delivery(make_destination(), message(user_id="ann", event="Paid"))
        for prefix in ("an", "Pai", "ann", "Paid"):
            assert listed_ids(admin_client.get(LOG_URL, {"q": prefix})) == [wanted.pk]
        for other in ("paid", "ANN", "nn", "aid", "anna"):
            assert listed_ids(admin_client.get(LOG_URL, {"q": other})) == []


class TestCost:
    def list_queries(self, admin_client, count: int) -> list[str]:
        source = Source.objects.create(name=f"shared by {count}")
        destinations = [make_destination(source, name=f"d{count}-{n}") for n in range(3)]
        for index in range(count):
            make_delivery(
                destinations[index % 3], message(user_id=f"p{index}"), status="failed", replay_count=1
            )
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(LOG_URL).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    def test_thirty_rows_take_as_many_queries_as_three(self, admin_client):
        few = len(self.list_queries(admin_client, 3))
        Delivery.objects.all().delete()
        many = len(self.list_queries(admin_client, 30))
        assert many == few

    def test_the_list_never_counts_the_whole_table(self, admin_client):
        queries = self.list_queries(admin_client, 30)
        counts = [sql for sql in queries if "COUNT(" in sql.upper()]
        assert counts, "the list counts the rows it may page through"
        for sql in counts:
            assert "LIMIT" in sql.upper(), f"a count over the whole log: {sql}"

    def test_a_long_log_pages_on_without_knowing_its_length(self, admin_client, monkeypatch):
        # Given more deliveries than the list counts ahead of the page (10 pages of 2, here)
        monkeypatch.setattr(admin.site._registry[Delivery], "list_per_page", 2)
        destination = make_destination()
        made = [make_delivery(destination, message(user_id=f"p{n}")) for n in range(30)]
        # When the first page is shown
        first = admin_client.get(LOG_URL).content.decode()
        # Then it says there are more than it counted, with links to the next pages but no last page
        assert "more than 22 deliveries" in first
        assert (
            "more than 22 results" in admin_client.get(LOG_URL, {"status__exact": "pending"}).content.decode()
        )
        assert "?p=4" in first and "?p=15" not in first and 'class="showall"' not in first
        assert "Show counts" not in first
        # And far enough along, the end is known
        last = admin_client.get(LOG_URL, {"p": 15})
        assert "30 deliveries" in last.content.decode()
        assert "1 result (" in admin_client.get(LOG_URL, {"q": "p7"}).content.decode()
        assert listed_ids(last) == [made[1].pk, made[0].pk]


class TestAccess:
    def test_a_visitor_is_sent_to_the_login_page(self, client):
        response = client.get(LOG_URL)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

    def test_a_non_staff_user_is_sent_to_the_login_page(self, client, django_user_model):
        user = django_user_model.objects.create_user("bob", "bob@example.com", "a-long-password-for-tests")
        client.force_login(user)
        response = client.get(LOG_URL)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

    def test_nothing_can_be_added_by_hand(self, admin_client):
        page = admin_client.get(LOG_URL).content.decode()
        assert 'href="/admin/delivery/delivery/add/"' not in page
        assert admin_client.get(LOG_URL + "add/").status_code == 403
