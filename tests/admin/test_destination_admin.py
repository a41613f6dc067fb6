"""The destination pages of the admin: the form as RudderStack groups it, validation, a write-only API
key, the Test credentials check against a fake Customer.io, and the list."""

from __future__ import annotations

import base64
import html
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from delivery.admin import send_for_real
from destinations.models import TESTER_SOURCE_NAME, Destination
from tests.admin import config_fixtures
from tests.admin.config_fixtures import OTHER_API_KEY, admin_url, page
from tests.support.factories import API_KEY, SITE_ID, make_destination, make_source, secret_forms
from tests.support.services import free_port

pytestmark = pytest.mark.django_db

# Fixtures the tests below take by name.
debug_logs = config_fixtures.debug_logs
viewer = config_fixtures.viewer

ADD_URL = reverse("admin:destinations_destination_add")
LIST_URL = reverse("admin:destinations_destination_changelist")
GROUPS = [
    "Connection settings",
    "Cloud mode",
    "Device mode: Web SDK",
    "Device mode: Mobile SDK",
    "Other settings",
    "Delivery",
    "Transformer options",
]
REGION_PATH = "/api/v1/accounts/region"


def form_data(**overrides) -> dict:
    """What the add form posts when a person fills it in as the README's example destination."""
    data = {
        "name": "Customer.io",
        "enabled": "on",
        "sources": [],
        "site_id": SITE_ID,
        "api_key": API_KEY,
        "data_center": "US",
        "device_token_event_name": "",
        "send_page_name_in_sdk": "on",
        "auto_track_device_attributes": "on",
        "android_background_queue_min_tasks": "10",
        "android_background_queue_delay_seconds": "30",
        "event_filtering": "disable",
        "allowlisted_events": "",
        "denylisted_events": "",
        "onetrust_cookie_categories": "",
        "ketch_consent_purposes": "",
        "strict_ordering": "on",
        "api_version": "v1",
        "rate_limit_per_second": "100",
        "retry_horizon": "3:00:00",
        "deduplication_ids": "on",  # on for a new destination
    }
    data.update(overrides)
    return data


def change_data(destination: Destination, **overrides) -> dict:
    current = {
        "name": destination.name,
        "site_id": destination.site_id,
        "api_key": "",
        "sources": [source.pk for source in destination.sources.all()],
    }
    return form_data(**{**current, **overrides})


def assert_no_api_key(text: str, api_key: str = API_KEY, site_id: str = SITE_ID) -> None:
    for secret in secret_forms(site_id, api_key):
        assert secret not in text


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# The form


def test_the_form_groups_the_settings_as_rudderstacks_dashboard_does(admin_client):
    # When an admin opens the add page
    response = admin_client.get(ADD_URL)
    text = html.unescape(page(response))
    # Then the groups come in RudderStack's order, then ours
    positions = [text.index(f">{group}<") for group in GROUPS]
    assert positions == sorted(positions)
    # And the connection group holds the credentials, with where to find them in Customer.io
    assert "Settings > Workspace Settings > API and Webhook Credentials" in text
    form = response.context["adminform"].form
    assert form.fields["api_key"].help_text.startswith("Not set.")
    # And every field explains itself
    assert all(field.help_text for field in form.fields.values())


def test_the_source_picker_leaves_out_the_event_testers_source(admin_client):
    # Given a source of the person's, and the one the event tester stores its test events under
    web, tester = make_source("web"), send_for_real.tester_source()
    # When an admin opens the add page, then only their source is offered
    choices = admin_client.get(ADD_URL).context["adminform"].form.fields["sources"].choices
    assert [label for _, label in choices] == ["web"]
    # And a post naming the tester's source anyway is refused, naming the field, not a 500
    response = admin_client.post(ADD_URL, form_data(sources=[web.pk, tester.pk]))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["sources"] and f"{tester.pk} is not one of the available choices" in str(errors)
    assert not Destination.objects.exists()


def test_a_destination_connected_to_the_testers_source_keeps_it(admin_client):
    # Given a destination connected to the tester's source before it was left out of the picker
    tester = send_for_real.tester_source()
    destination = make_destination(tester, make_source("web"), name="Old")
    # When an admin opens it, the tester's source is still shown among its sources
    form = admin_client.get(admin_url(destination, "change")).context["adminform"].form
    assert {label for _, label in form.fields["sources"].choices} == {"web", TESTER_SOURCE_NAME}
    # And saving it unchanged keeps both
    response = admin_client.post(admin_url(destination, "change"), change_data(destination, name="Old"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert {source.name for source in destination.sources.all()} == {"web", TESTER_SOURCE_NAME}


def test_the_name_lists_are_edited_one_name_per_line(admin_client):
    destination = make_destination(allowlisted_events=["Signed Up", "Order Completed"])
    response = admin_client.get(admin_url(destination, "change"))
    text = page(response)
    assert '<textarea name="allowlisted_events"' in text
    assert "Signed Up\nOrder Completed</textarea>" in text


# Creating and editing


def test_an_admin_creates_a_destination(admin_client, debug_logs):
    # Given a source
    source = make_source("web")
    # When an admin fills in the form, with lists one name per line
    data = form_data(
        sources=[source.pk],
        event_filtering="whitelistedEvents",
        allowlisted_events="Signed Up\r\n\r\n  Order Completed  \r\n",
        onetrust_cookie_categories="C0001\nC0004",
        ketch_consent_purposes="analytics",
        data_center="EU",
        retry_horizon="1:30:00",
    )
    response = admin_client.post(ADD_URL, data)
    # Then the destination is saved as entered
    assert response.status_code == 302, response.context["adminform"].form.errors
    destination = Destination.objects.get(name="Customer.io")
    assert destination.api_key == API_KEY and destination.site_id == SITE_ID
    assert destination.data_center == "EU"
    assert list(destination.sources.all()) == [source]
    assert destination.allowlisted_events == ["Signed Up", "Order Completed"]
    assert destination.onetrust_cookie_categories == ["C0001", "C0004"]
    assert destination.ketch_consent_purposes == ["analytics"]
    assert destination.retry_horizon == timedelta(hours=1, minutes=30)
    # And neither the history nor the logs hold the key
    entry = LogEntry.objects.get(object_id=str(destination.pk))
    assert_no_api_key(entry.change_message + entry.object_repr)
    assert_no_api_key(debug_logs.text)


INVALID = [
    ("site_id", "", "This field is required."),
    ("site_id", "not a site id!", "Site ID must be letters and digits only"),
    ("api_key", "", "This field is required."),
    ("api_key", "not-hex-at-all-0123x", "API key must be hexadecimal, 20 or 64 characters long"),
    ("api_key", "abc123", "API key must be hexadecimal, 20 or 64 characters long"),
    ("data_center", "MARS", "Select a valid choice. MARS is not one of the available choices."),
    ("allowlisted_events", "Signed Up\nSigned Up", '"Signed Up" is listed twice.'),
    ("denylisted_events", "A\n B \nB", '"B" is listed twice.'),
    ("onetrust_cookie_categories", "C0001\nC0001", '"C0001" is listed twice.'),
    ("ketch_consent_purposes", "ads\nads", '"ads" is listed twice.'),
    ("retry_horizon", "0", "The retry horizon must be longer than zero"),
    ("retry_horizon", "three hours", "Enter a valid duration."),
    ("rate_limit_per_second", "0", "Ensure this value is greater than or equal to 1."),
    ("event_filtering", "everything", "Select a valid choice."),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_a_mistake_is_named_next_to_its_field(admin_client, debug_logs, field, value, message):
    # When an admin submits the form with one mistake (and a valid API key elsewhere)
    response = admin_client.post(ADD_URL, form_data(**{field: value}))
    # Then the page comes back with the message on that field, and nothing is saved
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert message in html.unescape(page(response))
    assert not Destination.objects.exists()
    # And the key typed in is not sent back, nor logged
    if field != "api_key":
        assert_no_api_key(page(response))
        assert 'name="api_key"' in page(response) and 'name="api_key" value' not in page(response)
    assert_no_api_key(debug_logs.text)


def test_a_new_api_key_is_not_shown_back_after_an_error(admin_client):
    destination = make_destination()
    response = admin_client.post(
        admin_url(destination, "change"), change_data(destination, api_key=OTHER_API_KEY, site_id="")
    )
    assert response.status_code == 200
    assert_no_api_key(page(response), OTHER_API_KEY)
    assert_no_api_key(page(response))


def test_leaving_the_api_key_empty_keeps_the_stored_one(admin_client):
    # Given a destination with a key
    destination = make_destination(name="Customer.io")
    # When an admin changes the name and leaves the API key empty
    response = admin_client.post(admin_url(destination, "change"), change_data(destination, name="Renamed"))
    # Then the key is kept, and the history does not claim it changed
    assert response.status_code == 302
    destination.refresh_from_db()
    assert destination.name == "Renamed" and destination.api_key == API_KEY
    assert LogEntry.objects.get(object_id=str(destination.pk)).get_change_message() == "Changed Name."


def test_entering_a_new_api_key_replaces_it(admin_client, debug_logs):
    destination = make_destination()
    response = admin_client.post(
        admin_url(destination, "change"), change_data(destination, api_key=OTHER_API_KEY)
    )
    assert response.status_code == 302
    destination.refresh_from_db()
    assert destination.api_key == OTHER_API_KEY
    message = LogEntry.objects.get(object_id=str(destination.pk)).get_change_message()
    assert message == "Changed API key."
    assert_no_api_key(debug_logs.text, OTHER_API_KEY)


def test_the_change_page_says_whether_a_key_is_set_and_its_last_four_characters(admin_client):
    destination = make_destination()
    text = html.unescape(page(admin_client.get(admin_url(destination, "change"))))
    assert f"Set, ending in …{API_KEY[-4:]}" in text
    assert "Leave empty to keep it" in text


def test_no_page_holds_the_api_key(admin_client, debug_logs):
    # Given a destination whose key was set and then replaced through the admin
    source = make_source("web")
    destination = make_destination(source, api_key=OTHER_API_KEY)
    admin_client.post(admin_url(destination, "change"), change_data(destination, api_key=API_KEY))
    # When an admin visits every page of it
    urls = [LIST_URL, ADD_URL, *(admin_url(destination, view) for view in ("change", "history", "delete"))]
    urls.append(LIST_URL + "?q=Customer")
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        # Then neither key appears, plain or as HTTP Basic credentials
        assert_no_api_key(page(response), API_KEY)
        assert_no_api_key(page(response), OTHER_API_KEY)
    assert_no_api_key(debug_logs.text, API_KEY)
    assert_no_api_key(debug_logs.text, OTHER_API_KEY)


def test_staff_who_may_only_view_see_whether_a_key_is_set_never_the_key(viewer):
    # Given a destination with a key, and a staff member with view permissions only
    destination = make_destination(make_source("web"))
    # When they open its page (Django shows a form they may not change as its values)
    response = viewer.get(admin_url(destination, "change"))
    # Then the key is said to be set, and no part of it is on the page
    assert response.status_code == 200
    text = html.unescape(page(response))
    assert_no_api_key(text, API_KEY)
    assert API_KEY[-4:] not in text
    assert "API key" in text and "Set" in text
    for url in (LIST_URL, admin_url(destination, "history")):
        assert_no_api_key(page(viewer.get(url)), API_KEY)


def test_every_admin_of_a_model_with_a_secret_keeps_it_from_view_only_staff():
    # Every model the admin shows that holds an encrypted field, now or added later, has the swap
    from django.contrib import admin

    from destinations.admin import SecretsNeverShown
    from destinations.fields import EncryptedTextField

    holders = [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if any(isinstance(field, EncryptedTextField) for field in model._meta.fields)
    ]
    # (the source's admin is SourceAdmin extended by the log: delivery/admin/source_activity.py)
    assert {base.__name__ for model_admin in holders for base in type(model_admin).__mro__} >= {
        "DestinationAdmin",
        "SourceAdmin",
    }
    assert all(isinstance(model_admin, SecretsNeverShown) for model_admin in holders)
    # and none bypasses it: what an admin shows goes in shown_fieldsets, which the swap reads
    assert all(type(model_admin).get_fieldsets is SecretsNeverShown.get_fieldsets for model_admin in holders)


# Test credentials


def press_test_credentials(admin_client, destination: Destination):
    return admin_client.post(admin_url(destination, "test_credentials"), follow=True)


def region_answer(fake, region: str, status: int = 200):
    body = {"url": fake.url, "region": region, "environment_id": 3}
    fake.answer(status, body=body if status == 200 else {"meta": {"error": "Unauthorized"}}, path=REGION_PATH)


def test_working_credentials_are_reported_as_working(admin_client, fake, debug_logs):
    # Given a US destination, and Customer.io accepting its credentials
    destination = make_destination(data_center="US")
    region_answer(fake, "us")
    # When an admin presses Test credentials on its page
    response = press_test_credentials(admin_client, destination)
    # Then they are back on the page, told the credentials work
    assert response.redirect_chain[-1][0] == admin_url(destination, "change")
    assert messages_of(response) == [f"The credentials of “{destination.name}” work (US data center)."]
    # And Customer.io was asked with them, as HTTP Basic site_id:api_key
    (request,) = fake.requests(REGION_PATH)
    assert request.method == "GET"
    credentials = base64.b64encode(f"{SITE_ID}:{API_KEY}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    assert_no_api_key(page(response))
    assert_no_api_key(debug_logs.text)


def test_rejected_credentials_say_which_ones_to_check(admin_client, fake, debug_logs):
    destination = make_destination()
    region_answer(fake, "us", status=401)
    response = press_test_credentials(admin_client, destination)
    (message,) = messages_of(response)
    assert message.startswith(f"Customer.io rejected the credentials of “{destination.name}” (HTTP 401)")
    assert "Site ID or API key is wrong" in message
    assert "Settings > Workspace Settings > API and Webhook Credentials" in message
    # And the destination is marked rejected, as a delivery that met a 401 marks it, so the list agrees
    destination.refresh_from_db()
    assert destination.credentials_rejected_at is not None
    assert 'class="cio-badge cio-badge-rejected">rejected</span> since ' in page(admin_client.get(LIST_URL))
    assert_no_api_key(page(response))
    assert_no_api_key(debug_logs.text)


def test_working_credentials_clear_the_rejected_mark_on_every_page(admin_client, fake):
    # Given a destination whose deliveries met a 401 an hour ago, the list showing it rejected
    destination = make_destination(name="Main")
    Destination.objects.filter(pk=destination.pk).update(
        credentials_rejected_at=timezone.now() - timedelta(hours=1)
    )
    assert "cio-badge-rejected" in page(admin_client.get(LIST_URL))
    # When the credentials were fixed and Test credentials says they work
    region_answer(fake, "us")
    (message,) = messages_of(press_test_credentials(admin_client, destination))
    assert message == "The credentials of “Main” work (US data center)."
    # Then neither the list nor the destination's page nor its dashboard says rejected any more
    destination.refresh_from_db()
    assert destination.credentials_rejected_at is None
    assert "cio-badge-rejected" not in page(admin_client.get(LIST_URL))
    assert "rejected" not in page(admin_client.get(admin_url(destination, "change")))
    dashboard = page(admin_client.get(reverse("admin:destination_dashboard", args=[destination.pk])))
    assert "rejected this destination's credentials" not in dashboard


def test_a_check_that_reaches_no_verdict_leaves_the_mark_as_it_was(admin_client, fake):
    # Given a destination marked rejected, and Customer.io answering 503 to the check
    destination = make_destination()
    rejected_at = timezone.now() - timedelta(hours=1)
    Destination.objects.filter(pk=destination.pk).update(credentials_rejected_at=rejected_at)
    fake.answer(503, path=REGION_PATH)
    press_test_credentials(admin_client, destination)
    # Then the check said nothing about the credentials, and the mark stays
    destination.refresh_from_db()
    assert destination.credentials_rejected_at == rejected_at


def test_a_403_is_a_rejection_too(admin_client, fake):
    destination = make_destination()
    region_answer(fake, "us", status=403)
    (message,) = messages_of(press_test_credentials(admin_client, destination))
    assert "rejected the credentials" in message and "(HTTP 403)" in message


@pytest.mark.parametrize(("configured", "answered"), [("US", "eu"), ("EU", "us")])
def test_credentials_of_the_other_region_are_flagged(admin_client, fake, configured, answered):
    destination = make_destination(data_center=configured)
    region_answer(fake, answered)
    response = press_test_credentials(admin_client, destination)
    (message,) = response.context["messages"]
    assert message.level_tag == "warning"
    assert str(message) == (
        f"The credentials of “{destination.name}” work, but Customer.io says the workspace is in the "
        f"{answered.upper()} data center while this destination is set to {configured}: events would not "
        f"reach it. Set Data center to {answered.upper()}."
    )


def test_customerio_unreachable_is_said_plainly(admin_client, settings, debug_logs):
    # Given nothing listening where Customer.io should be
    settings.CIO_TRACK_URL_US = settings.CIO_TRACK_URL_EU = f"http://127.0.0.1:{free_port()}"
    destination = make_destination()
    response = press_test_credentials(admin_client, destination)
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert message.startswith(
        f"Could not reach Customer.io to check “{destination.name}” (could not connect)"
    )
    assert_no_api_key(page(response))
    assert_no_api_key(debug_logs.text)


def test_a_customerio_outage_is_not_taken_for_bad_credentials(admin_client, fake):
    destination = make_destination()
    fake.answer(503, path=REGION_PATH)
    (message,) = messages_of(press_test_credentials(admin_client, destination))
    assert message.startswith("Could not reach Customer.io") and "(answered HTTP 503)" in message


def test_the_list_action_tests_each_chosen_destination(admin_client, fake):
    # Given two destinations, one of whose keys Customer.io rejects
    good, bad = make_destination(name="Good"), make_destination(name="Bad", api_key=OTHER_API_KEY)
    fake.answer(
        401,
        path=REGION_PATH,
        match=lambda request: request.headers["Authorization"].endswith(
            base64.b64encode(f"{SITE_ID}:{OTHER_API_KEY}".encode()).decode()
        ),
    )
    # When an admin chooses both on the list and runs Test credentials
    data = {"action": "test_credentials", "_selected_action": [good.pk, bad.pk]}
    response = admin_client.post(LIST_URL, data, follow=True)
    # Then each gets its own verdict
    found = messages_of(response)
    assert "The credentials of “Good” work." in found
    assert any(message.startswith("Customer.io rejected the credentials of “Bad”") for message in found)
    assert_no_api_key(page(response), OTHER_API_KEY)


def test_test_credentials_needs_a_post(admin_client):
    destination = make_destination()
    assert admin_client.get(admin_url(destination, "test_credentials")).status_code == 405


def test_test_credentials_of_a_missing_destination_says_so(admin_client):
    response = admin_client.post(
        reverse("admin:destinations_destination_test_credentials", args=[999999]), follow=True
    )
    assert response.status_code == 200
    assert "with ID “999999” doesn\N{RIGHT SINGLE QUOTATION MARK}t exist" in messages_of(response)[0]


def test_a_viewer_may_not_test_credentials(viewer, fake):
    destination = make_destination()
    assert viewer.post(admin_url(destination, "test_credentials")).status_code == 403
    assert fake.requests() == []


def test_the_change_page_has_a_test_credentials_button(admin_client):
    destination = make_destination()
    text = page(admin_client.get(admin_url(destination, "change")))
    assert f'action="{admin_url(destination, "test_credentials")}"' in text
    assert ">Test credentials</button>" in text
    # and links to its dashboard and to the event tester with it chosen
    assert f'href="/admin/dashboard/{destination.pk}/"' in text
    assert f'href="/admin/tools/event-tester/?destination={destination.pk}"' in text


# The list


def test_the_list_shows_health_and_sources(admin_client):
    # Given a destination fed by two sources whose credentials were rejected, with a long last error
    rejected_at = timezone.now() - timedelta(minutes=5)
    destination = make_destination(make_source("web"), make_source("app"), name="Main", data_center="EU")
    Destination.objects.filter(pk=destination.pk).update(
        credentials_rejected_at=rejected_at,
        last_error="Customer.io answered 401: " + "x" * 200,
        last_delivered_at=rejected_at,
    )
    make_destination(name="Quiet")
    # When an admin opens the list
    text = html.unescape(page(admin_client.get(LIST_URL)))
    # Then it shows the sources, the data center, and a "rejected" badge with its time
    assert "app, web" in text and ">EU<" in text
    assert 'class="cio-badge cio-badge-rejected">rejected</span> since ' in text
    assert timezone.localtime(rejected_at).strftime("%Y-%m-%d %H:%M") in text
    # And the last error, cut short
    assert "Customer.io answered 401: xxx" in text and "x" * 200 + "<" not in text
    # And links to its dashboard and its deliveries
    assert f'href="/admin/dashboard/{destination.pk}/">Dashboard</a>' in text
    assert f'href="/admin/delivery/delivery/?destination__id__exact={destination.pk}">Log</a>' in text
    assert_no_api_key(text)


def test_the_list_does_not_query_per_row(admin_client, django_assert_max_num_queries):
    sources = [make_source() for _ in range(3)]
    for _ in range(8):
        make_destination(*sources)
    with django_assert_max_num_queries(10):
        response = admin_client.get(LIST_URL)
    assert response.status_code == 200
    assert page(response).count('class="action-select"') == 8
