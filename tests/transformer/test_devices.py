"""Mobile lifecycle events with a device token register or delete a push device."""

from __future__ import annotations

import pytest

from destinations.customerio import InstrumentationError
from tests.transformer.helpers import US, item, send

TIME = "2020-01-09T10:01:53.558Z"
SECONDS = 1578564113


def installed(event="Application Installed", device=None, **fields):
    device = {"token": "tok-1", "type": "android"} if device is None else device
    return {"type": "track", "event": event, "userId": "u1", "context": {"device": device}, **fields}


@pytest.mark.parametrize("event", ["Application Installed", "Application Opened"])
def test_an_install_or_open_with_a_token_registers_the_device(event):
    # given a lifecycle event from a phone with a push token
    message = installed(event, properties={"build": 7}, originalTimestamp=TIME)
    # when it is transformed
    request = send(message)
    # then the device is added to the person
    assert (request.method, request.endpoint) == ("PUT", f"{US}/api/v1/customers/u1/devices")
    assert request.body == {
        "device": {"id": "tok-1", "platform": "android", "last_used": SECONDS, "build": 7}
    }


def test_the_configured_device_token_event_registers_the_device_too():
    request = send(installed("Push Token Set"), deviceTokenEventName="Push Token Set")
    assert request.endpoint == f"{US}/api/v1/customers/u1/devices"


def test_other_events_with_a_token_are_plain_events():
    request = send(installed("Push Token Set"))
    assert request.endpoint == f"{US}/api/v1/customers/u1/events"


def test_without_a_token_an_install_is_a_plain_event():
    request = send(installed(device={"type": "android"}))
    assert request.endpoint == f"{US}/api/v1/customers/u1/events"
    assert request.body["name"] == "Application Installed"


def test_without_a_person_an_install_is_an_anonymous_event():
    message = {**installed(), "userId": None, "anonymousId": "anon-1"}
    request = send(message)
    assert request.endpoint == f"{US}/api/v1/events"
    assert request.body["anonymous_id"] == "anon-1"


def test_an_uninstall_deletes_the_device():
    # given an uninstall of a device whose token has characters a path cannot hold
    message = installed("Application Uninstalled", device={"token": "a/b c"})
    # when it is transformed
    request = send(message)
    # then Customer.io deletes that device, the token percent-encoded
    assert (request.method, request.endpoint) == ("DELETE", f"{US}/api/v1/customers/u1/devices/a%2Fb%20c")
    assert request.body is None


@pytest.mark.parametrize(
    "message",
    [
        installed("Application Uninstalled", device={"type": "ios"}),
        {**installed("Application Uninstalled"), "userId": None, "anonymousId": "anon-1"},
    ],
    ids=["no token", "no person"],
)
def test_an_uninstall_without_a_person_and_a_token_is_refused(message):
    with pytest.raises(InstrumentationError, match=r"context\.device\.token"):
        send(message)


@pytest.mark.parametrize(
    ("device_type", "platform"),
    [("iOS", "ios"), ("ipados", "ios"), ("watchOS", "ios"), ("tvOS", "ios"), ("Android", "android")],
)
def test_the_platform_is_normalised(device_type, platform):
    # Customer.io knows "ios" and "android"; Apple's other systems push like iOS.
    body = send(installed(device={"token": "t", "type": device_type})).body
    assert body["device"]["platform"] == platform


def test_without_a_device_type_there_is_no_platform():
    assert "platform" not in send(installed(device={"token": "t"})).body["device"]


def test_the_token_wins_over_a_property_named_id():
    assert send(installed(properties={"id": "not-the-token"})).body["device"]["id"] == "tok-1"


def test_v2_registers_the_device_with_its_context():
    # given an install from an Android app
    message = installed(
        properties={"build": 7},
        originalTimestamp=TIME,
        context={
            "device": {"token": "tok-1", "type": "android", "model": "Pixel 8"},
            "os": {"name": "Android"},
            "app": {"version": "2.1"},
            "locale": "fr-FR",
        },
    )
    # when it is transformed in v2
    # then it is an add_device item, the device described from the context
    assert item(message, apiVersion="v2") == {
        "type": "person",
        "action": "add_device",
        "identifiers": {"id": "u1"},
        "device": {
            "token": "tok-1",
            "platform": "android",
            "last_used": SECONDS,
            "attributes": {
                "device_os": "Android",
                "device_model": "Pixel 8",
                "app_version": "2.1",
                "device_locale": "fr-FR",
                "build": 7,
            },
        },
    }


def test_v2_deletes_the_device():
    message = installed("Application Uninstalled", device={"token": "tok-1", "type": "ios"})
    assert item(message, apiVersion="v2") == {
        "type": "person",
        "action": "delete_device",
        "identifiers": {"id": "u1"},
        "device": {"token": "tok-1"},
    }
