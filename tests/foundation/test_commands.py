"""The management commands that scripts and people use without the admin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from destinations.models import Destination, Source
from destinations.rudderstack_config import to_config

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "0123456789abcdef0123"


def run_json(*args: str, stdin: str | None = None) -> dict:
    out = StringIO()
    if stdin is not None:
        sys_stdin, sys.stdin = sys.stdin, StringIO(stdin)
    try:
        call_command(*args, "--json", stdout=out)
    finally:
        if stdin is not None:
            sys.stdin = sys_stdin
    return json.loads(out.getvalue())


def run_manage(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run manage.py as a person would, against the test database."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **database_environment()},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def database_environment() -> dict[str, str]:
    """DATABASE_URL of the test database, so a subprocess sees what the test wrote."""
    from django.db import connection

    database = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"DATABASE_URL": f"sqlite:///{database['NAME']}"}
    return {
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    }


@pytest.mark.django_db
def test_add_source_prints_id_and_write_key():
    # When a source is added
    result = run_json("add_source", "web app")
    # Then its id and write key are printed, and the key authenticates it
    source = Source.objects.get(pk=result["id"])
    assert result == {"id": source.pk, "name": "web app", "write_key": source.write_key}


@pytest.mark.django_db
def test_add_source_text_output_names_the_key():
    out = StringIO()
    call_command("add_source", "server", stdout=out)
    source = Source.objects.get(name="server")
    assert f"write key {source.write_key}" in out.getvalue()


@pytest.mark.django_db
def test_add_destination_with_every_option(settings):
    settings.PUBLIC_URL = "https://relay.example.com/"
    # Given two sources
    Source.objects.create(name="web")
    Source.objects.create(name="ios")
    # When a destination is added with every flag
    result = run_json(
        "add_destination", "--name", "Customer.io EU", "--site-id", "abc123", "--api-key", API_KEY,
        "--data-center", "eu", "--source", "web", "--source", "ios", "--device-token-event", "token_set",
        "--onetrust-category", "C0001", "--onetrust-category", "C0004", "--ketch-purpose", "analytics",
        "--event-filter", "deny", "--event", "Debug", "--event", "Heartbeat", "--api-version", "v2",
        "--webhook-signing-key", "5191ed5191ed5191ed",
    )  # fmt: skip
    # Then it is stored as asked, connected to both sources
    destination = Destination.objects.get(pk=result["id"])
    assert result == {
        "id": destination.pk,
        "name": "Customer.io EU",
        "sources": ["ios", "web"],
        "webhook_url": f"https://relay.example.com/webhooks/customerio/{destination.webhook_token}",
    }
    assert destination.webhook_signing_key == "5191ed5191ed5191ed"
    assert (destination.site_id, destination.api_key, destination.data_center) == ("abc123", API_KEY, "EU")
    assert destination.device_token_event_name == "token_set"
    assert destination.onetrust_cookie_categories == ["C0001", "C0004"]
    assert destination.ketch_consent_purposes == ["analytics"]
    assert destination.event_filtering == Destination.EventFiltering.DENYLIST
    assert destination.denylisted_events == ["Debug", "Heartbeat"]
    assert destination.api_version == "v2"


@pytest.mark.django_db
def test_add_destination_defaults_match_rudderstack():
    result = run_json("add_destination", "--name", "cio", "--site-id", "abc", "--api-key", API_KEY)
    destination = Destination.objects.get(pk=result["id"])
    assert destination.data_center == "US"
    assert destination.event_filtering == Destination.EventFiltering.DISABLED
    assert destination.api_version == "v1"
    assert destination.strict_ordering is True
    assert destination.rate_limit_per_second == 100
    assert destination.retry_horizon == timedelta(hours=3)
    assert destination.auto_track_device_attributes is True
    assert destination.android_background_queue_min_tasks == 10
    assert destination.android_background_queue_delay_seconds == 30


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "nowhere"], "unknown source: nowhere"),
        (["--data-center", "ASIA"], "--data-center must be US or EU, got 'ASIA'"),
        (["--api-key", ""], "--api-key is required"),
        (["--api-key", "not-a-key"], "API key must be hexadecimal"),
        (["--event-filter", "maybe", "--event", "A"], "--event-filter must be allow or deny"),
        (["--event-filter", "allow", "--event", "A", "--event", "A"], '"A" is listed twice'),
        (
            ["--webhook-signing-key", "has spaces in it"],
            "webhook_signing_key: The reporting webhook signing key",
        ),
    ],
)
def test_add_destination_errors_are_one_line_on_stderr_and_exit_2(args, message):
    # Given a command line with one mistake
    base = ["add_destination", "--name", "cio", "--site-id", "abc", "--api-key", API_KEY]
    # When it runs
    result = run_manage(*base, *args)
    # Then it exits 2 with one clear line on stderr and creates nothing
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert not Destination.objects.exists()


RUDDERSTACK_CONFIG = {
    "siteID": "46be54768e7d49ab2628",
    "apiKey": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    "datacenter": "EU",
    "deviceTokenEventName": "device_token_registered",
    "eventFilteringOption": "whitelistedEvents",
    "whitelistedEvents": [{"eventName": "Order Completed"}, {"eventName": ""}, {"eventName": "Signed Up"}],
    "blacklistedEvents": [{"eventName": ""}],
    "oneTrustCookieCategories": {"web": [{"oneTrustCookieCategory": "C0004"}]},
    "ketchConsentPurposes": [{"purpose": "analytics"}],
    "useNativeSDK": {"web": True},
    "sendPageNameInSDK": {"web": False},
    "dataUseInApp": {"web": True},
}


@pytest.mark.django_db
def test_import_rudderstack_config_from_a_file(tmp_path):
    # Given a RudderStack destination export holding its Config
    path = tmp_path / "cio.json"
    path.write_text(json.dumps({"name": "Production CIO", "Config": RUDDERSTACK_CONFIG}))
    Source.objects.create(name="web")
    # When it is imported
    result = run_json("import_rudderstack_config", str(path), "--source", "web")
    # Then the destination has every setting it had in RudderStack
    destination = Destination.objects.get(pk=result["id"])
    assert result["name"] == "Production CIO"
    assert destination.site_id == "46be54768e7d49ab2628"
    assert destination.api_key == RUDDERSTACK_CONFIG["apiKey"]
    assert destination.data_center == "EU"
    assert destination.device_token_event_name == "device_token_registered"
    assert destination.event_filtering == "whitelistedEvents"
    assert destination.allowlisted_events == ["Order Completed", "Signed Up"]
    assert destination.denylisted_events == []
    assert destination.onetrust_cookie_categories == ["C0004"]
    assert destination.ketch_consent_purposes == ["analytics"]
    assert (destination.use_native_sdk, destination.send_page_name_in_sdk) == (True, False)
    assert destination.enable_in_app_messages is True
    assert list(destination.sources.values_list("name", flat=True)) == ["web"]
    # and it sends what RudderStack sends: no de-duplication ids, which only new destinations get
    assert destination.deduplication_ids is False
    assert Destination().deduplication_ids is True
    # and its config round-trips to what the transformer will get
    config = to_config(destination)
    assert config["siteID"] == RUDDERSTACK_CONFIG["siteID"]
    assert config["whitelistedEvents"] == [{"eventName": "Order Completed"}, {"eventName": "Signed Up"}]


@pytest.mark.django_db
def test_import_reads_stdin_and_takes_consent_management():
    # Given a newer config with consent in consentManagement, pasted on stdin
    config = {
        "siteID": "abc",
        "apiKey": API_KEY,
        "consentManagement": {
            "web": [
                {"provider": "oneTrust", "consents": [{"consent": "C0002"}]},
                {"provider": "ketch", "consents": [{"consent": "marketing"}]},
            ]
        },
    }
    result = run_json("import_rudderstack_config", "-", "--name", "pasted", stdin=json.dumps(config))
    destination = Destination.objects.get(pk=result["id"])
    assert destination.onetrust_cookie_categories == ["C0002"]
    assert destination.ketch_consent_purposes == ["marketing"]
    assert destination.data_center == "US"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "is not JSON"),
        (json.dumps({"siteID": "abc"}), "apiKey: is required"),
        (
            json.dumps({"siteID": "abc", "apiKey": API_KEY, "datacenter": "APAC"}),
            "datacenter: must be US or EU",
        ),
        (
            json.dumps({"siteID": "abc", "apiKey": API_KEY, "whitelistedEvents": "A"}),
            "whitelistedEvents: must be",
        ),
        (json.dumps([1, 2]), "Config: must be a JSON object"),
    ],
)
def test_import_errors_are_one_line_and_exit_2(document, message):
    result = run_manage("import_rudderstack_config", "-", stdin=document)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert not Destination.objects.exists()


@pytest.mark.django_db
def test_ensure_admin_creates_a_login_once_and_prints_the_password():
    from django.contrib.auth import get_user_model

    out = StringIO()
    call_command("ensure_admin", stdout=out)
    password = out.getvalue().strip().rsplit(" ", 1)[-1]
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)
    # and a second run leaves it alone
    again = StringIO()
    call_command("ensure_admin", stdout=again)
    assert "exists" in again.getvalue()
    user.refresh_from_db()
    assert user.check_password(password)
