"""Finding deliveries in the log: forgiving search that stays indexed and says what it matched, the
person as a link, sorting by time both ways, and the received window (presets, the dashboards' links,
a custom range)."""

from __future__ import annotations

import html
import importlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cio_project.times import exact_time
from delivery.admin import links
from delivery.admin.listing import starts_with
from delivery.models import Delivery, Event
from tests.admin.log_fixtures import LOG_URL, ago
from tests.support.factories import make_delivery, make_destination, message

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def listed(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


def said(response) -> str:
    found = re.search(r'id="delivery-search-said">(.*?)</p>', response.content.decode(), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[1])).split()) if found else ""


class TestSearch:
    def test_an_email_is_found_whatever_its_case(self, admin_client):
        # Given Kim identified with a capitalised address, and someone else
        destination = make_destination()
        kim = make_delivery(destination, message("identify", user_id="kim-1", email="Kim@Example.com"))
        make_delivery(destination, message("identify", user_id="lee", email="lee@example.com"))
        # Then the address is stored lowercased
        assert Event.objects.get(pk=kim.event_id).email == "kim@example.com"
        # When the log is searched with the address in another case
        response = admin_client.get(LOG_URL, {"q": "KIM@example.COM"})
        # Then Kim's delivery is found, and the page says how
        assert listed(response) == [kim.pk]
        assert said(response) == (
            "1 delivery whose person has the email \u201ckim@example.com\u201d (matched case-insensitive)."
        )

    def test_a_prefix_finds_a_persons_deliveries_and_the_page_says_so(self, admin_client):
        destination = make_destination()
        janes = [make_delivery(destination, message(user_id="jane-42", event="Paid")) for _ in range(3)]
        make_delivery(destination, message(user_id="bob", event="Paid"))
        response = admin_client.get(LOG_URL, {"q": "jane"})
        assert listed(response) == [delivery.pk for delivery in reversed(janes)]
        assert said(response) == "3 deliveries whose person starts with \u201cjane\u201d."

    def test_a_prefix_finds_event_names_and_message_ids(self, admin_client):
        destination = make_destination()
        order = make_delivery(destination, message(user_id="ann", event="Order Completed"))
        by_id = make_delivery(destination, message(user_id="bob", event="Paid", message_id="3d9c-1f"))
        response = admin_client.get(LOG_URL, {"q": "Order"})
        assert listed(response) == [order.pk]
        assert said(response) == "1 delivery whose event name starts with \u201cOrder\u201d."
        response = admin_client.get(LOG_URL, {"q": "3d9c"})
        assert listed(response) == [by_id.pk]
        assert said(response) == "1 delivery whose messageId starts with \u201c3d9c\u201d."

    def test_several_matches_are_each_named(self, admin_client):
        destination = make_destination()
        make_delivery(destination, message(user_id="pay-7", event="Signed Up"))
        make_delivery(destination, message(user_id="bob", event="Paid"))
        response = admin_client.get(LOG_URL, {"q": "Pa"})
        assert len(listed(response)) == 1
        assert said(response) == "1 delivery whose event name starts with \u201cPa\u201d."
        response = admin_client.get(LOG_URL, {"q": "pa"})
        assert said(response) == "1 delivery whose person starts with \u201cpa\u201d."

    def test_nothing_found_says_what_was_searched_and_where_to_look(self, admin_client):
        make_delivery(make_destination(), message(user_id="ann"))
        response = admin_client.get(LOG_URL, {"q": "zed-1"})
        assert listed(response) == []
        hint = said(response)
        zed = "\u201czed-1\u201d"
        tried = f"No delivery whose person starts with {zed}, or whose event name starts with {zed}."
        assert hint.startswith(tried)
        assert "Try a shorter prefix, or the person page" in hint
        assert 'href="/admin/person/?q=zed-1"' in response.content.decode()
        # And with a filter on, it says so too
        filtered = admin_client.get(LOG_URL, {"q": "ann", "status__exact": "failed"})
        assert said(filtered).startswith("No delivery under these filters whose person starts with")
        assert "or fewer filters" in said(filtered)

    def test_the_person_cell_links_to_the_persons_page(self, admin_client):
        delivery = make_delivery(make_destination(), message(user_id="jane 42&x"))
        page = admin_client.get(LOG_URL).content.decode()
        assert (
            '<a href="/admin/person/?q=jane+42%26x" title="Everything about this person">jane 42&amp;x</a>'
            in page
        )
        assert delivery.person == "jane 42&x"

    @pytest.mark.parametrize(
        ("model", "field", "index"),
        [
            (Delivery, "person", "delivery_log_person_prefix"),
            (Delivery, "event_name", "delivery_log_event_name_prefix"),
            (Event, "message_id", "event_message_id_prefix"),
        ],
    )
    def test_a_prefix_is_a_range_read_of_an_index(self, model, field, index):
        # Given the query a prefix search makes of a column
        query = model.objects.filter(starts_with(field, "jane")).values("id").query
        sql, params = query.sql_with_params()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # (A table of a few rows is cheaper to scan: ask whether an index can serve it at all.)
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {sql}", params)
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
        # Then the plan reads that column's index by range, not every row
        assert index in plan, plan
        if connection.vendor == "postgresql":
            assert "~>=~" in plan and "~<~" in plan, plan
        else:
            assert f"{field}>? AND {field}<?" in plan, plan


def test_the_migration_lowercases_stored_addresses_in_batches(monkeypatch):
    # Given addresses stored before they were lowercased (more than a batch of them)
    migration = importlib.import_module("delivery.migrations.0007_search_prefix_indexes_lowercase_email")
    monkeypatch.setattr(migration, "BATCH", 2)
    destination = make_destination()
    made = [make_delivery(destination, message("identify", user_id=f"p{n}", email="x@y.z")) for n in range(5)]
    Event.objects.filter(pk__in=[delivery.event_id for delivery in made]).update(email="Mixed@Case.COM")
    # When the migration's data step runs
    migration.lowercase_emails(apps, SimpleNamespace(connection=connection))
    # Then every one is lowercased
    assert set(Event.objects.values_list("email", flat=True)) == {"mixed@case.com"}


class TestSortByTime:
    def test_the_received_header_sorts_both_ways_by_id(self, admin_client):
        # Given deliveries received one after another
        destination = make_destination()
        made = [make_delivery(destination, received=ago(minutes=10 - n)) for n in range(3)]
        newest_first = [delivery.pk for delivery in reversed(made)]
        # When the log is opened: newest first, and the Received header offers the other way
        response = admin_client.get(LOG_URL)
        assert listed(response) == newest_first
        header = re.search(
            r'<th scope="col" class="sortable column-received[^"]*">(.*?)</th>',
            response.content.decode(),
            re.S,
        )
        assert header, "the Received column can be sorted"
        ascending = html.unescape(re.search(r'href="(\?[^"]*)"', header[1])[1])
        # When it is clicked, oldest first, read in id order
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(LOG_URL + ascending)
        assert listed(response) == list(reversed(newest_first))
        assert any(re.search(r'ORDER BY "delivery_delivery"\."id" ASC', q["sql"]) for q in queries)
        # And clicked again, newest first again
        header = re.search(r'column-received[^"]*">(.*?)</th>', response.content.decode(), re.S)[1]
        descending = html.unescape(re.search(r'<a href="(\?[^"]*)" class="toggle', header)[1])
        assert listed(admin_client.get(LOG_URL + descending)) == newest_first

    def test_no_other_column_sorts_and_a_bad_order_is_newest_first(self, admin_client):
        destination = make_destination()
        made = [make_delivery(destination) for _ in range(2)]
        page = admin_client.get(LOG_URL).content.decode()
        assert page.count('class="sortable') == 1
        for order in ("3", "-5", "99", "x"):
            assert listed(admin_client.get(LOG_URL, {"o": order}, follow=True)) == [made[1].pk, made[0].pk]


class TestReceivedWindow:
    def test_a_dashboard_link_shows_its_window_as_the_active_filter(self, admin_client):
        # Given deliveries at 3 hours and at 30 minutes ago
        destination = make_destination()
        now = timezone.now().replace(microsecond=0)
        old = make_delivery(destination, received=now - timedelta(hours=3))
        recent = make_delivery(destination, received=now - timedelta(minutes=30))
        # When a dashboard's link to the last hour is followed
        since, until = now - timedelta(hours=1), now
        response = admin_client.get(links.log_url(destination.pk, since=since, until=until))
        # Then only the window's delivery is listed, and the sidebar highlights that window, not "All"
        assert listed(response) == [recent.pk]
        assert old.pk not in listed(response)
        selected = re.findall(r'<li class="selected"><a [^>]*>([^<]*)</a>', response.content.decode())
        assert f"from {exact_time(since)} to {exact_time(until)}" in selected
        assert "All" not in selected[-1:]
        # And "All" clears the window
        filter_html = (
            response.content.decode().split('data-filter-title="received"')[1].split("</details>")[0]
        )
        all_link = html.unescape(re.search(r'<a href="([^"]*)">All</a>', filter_html)[1])
        assert "created_at" not in all_link
        assert set(listed(admin_client.get(LOG_URL + all_link))) == {old.pk, recent.pk}

    def test_a_custom_range_filters_and_keeps_the_rest_of_the_query(self, admin_client):
        destination, other = make_destination(), make_destination()
        now = timezone.localtime().replace(microsecond=0)
        inside = make_delivery(destination, received=now - timedelta(hours=2))
        make_delivery(destination, received=now - timedelta(hours=5))
        make_delivery(other, received=now - timedelta(hours=2))
        since = (now - timedelta(hours=3)).replace(second=0)
        query = {
            "destination__id__exact": destination.pk,
            "created_at__gte": since.strftime("%Y-%m-%d %H:%M"),
            "created_at__lt": exact_time(now - timedelta(hours=1)),
        }
        response = admin_client.get(LOG_URL, query)
        assert listed(response) == [inside.pk]
        # The range's form carries the other filters
        form = response.content.decode().split('id="delivery-range"')[1].split("</form>")[0]
        assert f'name="destination__id__exact" value="{destination.pk}"' in form
        # And shows the range as the admin writes times
        assert f'value="{exact_time(since)}"' in form

    def test_a_window_that_ends_in_the_past_is_read_in_received_time(self, admin_client):
        # Given three deliveries inside a window that ended an hour ago, and a newer one after it
        destination = make_destination()
        now = timezone.localtime().replace(microsecond=0)
        inside = [make_delivery(destination, received=now - timedelta(hours=hours)) for hours in (4, 3, 2)]
        make_delivery(destination, received=now - timedelta(minutes=10))
        query = {
            "created_at__gte": exact_time(now - timedelta(hours=5)),
            "created_at__lt": exact_time(now - timedelta(hours=1)),
        }
        # When the log lists the window, newest first and then oldest first
        response = admin_client.get(LOG_URL, query)
        header = re.search(r'column-received[^"]*">(.*?)</th>', response.content.decode(), re.S)[1]
        ascending = html.unescape(re.search(r'<a href="(\?[^"]*)"', header)[1])
        oldest_first = admin_client.get(LOG_URL + ascending)
        # Then it lists the window in received order both ways, read by the received time (the
        # created_at indexes), not backwards by id over every later row
        assert listed(response) == [delivery.pk for delivery in reversed(inside)]
        assert listed(oldest_first) == [delivery.pk for delivery in inside]
        assert response.context["cl"].queryset.query.order_by == ("-created_at", "-id")
        assert oldest_first.context["cl"].queryset.query.order_by == ("created_at", "id")

    @pytest.mark.parametrize(
        ("query", "error"),
        [
            (
                {"created_at__gte": "abc"},
                "Received from: \u201cabc\u201d is not a date and time; write it as",
            ),
            ({"created_at__lt": "2026-13-45"}, "Received to: \u201c2026-13-45\u201d is not a date and time"),
            (
                {"created_at__gte": "99999-01-01"},
                "Received from: \u201c99999-01-01\u201d is not a date and time",
            ),
            (
                {"created_at__gte": "2026-12-01 10:00", "created_at__lt": "2026-12-01 09:00"},
                "Received to: must be after received from.",
            ),
        ],
    )
    def test_a_bad_range_is_a_clear_error_naming_the_field(self, admin_client, query, error):
        delivery = make_delivery(make_destination())
        response = admin_client.get(LOG_URL, query)
        assert response.status_code == 200
        page = text(response)
        assert error in page
        # The bad bound is ignored rather than guessed at; the page still lists
        if "created_at__lt" not in query or "must be after" not in error:
            assert listed(response) == [delivery.pk]
        assert 'aria-invalid="true"' in response.content.decode()
