"""TransformConfig: RudderStack's Config keys plus ours, parsed once per distinct config."""

from __future__ import annotations

import base64
from datetime import timedelta
from types import SimpleNamespace

import pytest

from destinations.customerio import ConfigurationError, TransformConfig, transform
from destinations.rudderstack_config import to_config
from tests.transformer.helpers import API_KEY, AUTHORIZATION, EU, SITE_ID, US, config


def test_the_delivery_engine_s_config_is_understood():
    # given the dict the delivery engine passes: rudderstack_config.to_config() of a destination
    destination = SimpleNamespace(
        site_id="site-1",
        api_key="key-1",
        data_center="EU",
        device_token_event_name="Token Set",
        use_native_sdk=False,
        send_page_name_in_sdk=True,
        enable_in_app_messages=False,
        auto_track_device_attributes=True,
        android_background_queue_min_tasks=10,
        android_background_queue_delay_seconds=30,
        event_filtering="disable",
        allowlisted_events=[],
        denylisted_events=[],
        onetrust_cookie_categories=[],
        ketch_consent_purposes=[],
        api_version="v2",
        strict_ordering=True,
        rate_limit_per_second=100,
        retry_horizon=timedelta(hours=3),
        convert_to_unix_time=True,
        cio_identifiers=True,
        deduplication_ids=True,
        check_limits=True,
    )
    # when it is parsed
    parsed = TransformConfig.from_mapping(to_config(destination))
    # then every setting the transformer uses is read, and the rest ignored
    assert parsed == TransformConfig(
        "site-1",
        "key-1",
        "EU",
        "Token Set",
        "v2",
        convert_to_unix_time=True,
        cio_identifiers=True,
        deduplication_ids=True,
        check_limits=True,
    )
    assert (parsed.base_url, parsed.authorization) == (EU, AUTHORIZATION)


def test_the_authorization_is_basic_site_id_and_api_key():
    expected = "Basic " + base64.b64encode(f"{SITE_ID}:{API_KEY}".encode()).decode()
    assert TransformConfig.from_mapping(config()).authorization == expected == AUTHORIZATION


def test_the_defaults_are_rudderstack_s():
    parsed = TransformConfig.from_mapping({"siteID": "s", "apiKey": "k"})
    assert (parsed.data_center, parsed.api_version, parsed.base_url) == ("US", "v1", US)
    assert not (parsed.convert_to_unix_time or parsed.cio_identifiers or parsed.deduplication_ids)
    assert not parsed.check_limits


@pytest.mark.parametrize(("missing", "settings"), [("siteID", {"apiKey": "k"}), ("apiKey", {"siteID": "s"})])
def test_missing_credentials_are_a_configuration_error_in_rudderstack_s_words(missing, settings):
    with pytest.raises(ConfigurationError, match=f"^{missing} not found in Configs$"):
        TransformConfig.from_mapping({**settings, missing: ""})


@pytest.mark.parametrize(
    ("settings", "data_center"),
    [({"datacenter": "EU"}, "EU"), ({"datacenter": "eu"}, "EU"), ({"datacenterEU": True}, "EU"), ({}, "US")],
)
def test_the_data_center(settings, data_center):
    assert TransformConfig.from_mapping({"siteID": "s", "apiKey": "k", **settings}).data_center == data_center


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"datacenter": "APAC"}, "datacenter must be US or EU"),
        ({"apiVersion": "v3"}, "apiVersion must be v1 or v2"),
        ({"checkLimits": "yes"}, "checkLimits must be true or false"),
        ({"convertToUnixTime": 1}, "convertToUnixTime must be true or false"),
        ({"deviceTokenEventName": 5}, "deviceTokenEventName must be a string"),
        ({"siteID": ["s"]}, "siteID must be a string"),
    ],
)
def test_bad_settings_are_configuration_errors_naming_the_setting(settings, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        TransformConfig.from_mapping(config(**settings))


@pytest.mark.parametrize("value", [None, "config", ["siteID"]])
def test_a_config_that_is_not_an_object_is_a_configuration_error(value):
    with pytest.raises(ConfigurationError):
        transform({"type": "track", "userId": "u", "event": "E"}, value)


def test_a_whole_rudderstack_destination_export_is_accepted():
    assert TransformConfig.from_mapping({"ID": "d1", "Config": config()}).site_id == SITE_ID


def test_parsing_is_cached_by_value():
    assert TransformConfig.from_mapping(config()) is TransformConfig.from_mapping(dict(config()))


def test_the_cache_does_not_take_1_for_true():
    assert TransformConfig.from_mapping(config(checkLimits=True)).check_limits
    with pytest.raises(ConfigurationError):
        TransformConfig.from_mapping(config(checkLimits=1))


def test_the_api_key_is_not_in_the_repr():
    assert API_KEY not in repr(TransformConfig.from_mapping(config()))
