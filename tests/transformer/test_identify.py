"""identify -> PUT /api/v1/customers/{id}: the person's attributes, from their traits."""

from __future__ import annotations

import pytest

from destinations.customerio import InstrumentationError
from tests.transformer.helpers import US, send

IDENTIFY = {"type": "identify", "userId": "u1"}


def test_the_person_is_addressed_by_user_id():
    # given an identify with a userId and traits
    message = {**IDENTIFY, "traits": {"email": "ann@example.com", "plan": "pro"}}
    # when it is transformed
    request = send(message)
    # then Customer.io gets PUT /customers/{userId} with the traits as attributes
    assert (request.method, request.endpoint) == ("PUT", f"{US}/api/v1/customers/u1")
    assert request.body == {"email": "ann@example.com", "plan": "pro"}


def test_without_a_user_id_the_person_is_addressed_by_email():
    request = send({"type": "identify", "traits": {"email": "ann@example.com"}})
    assert request.endpoint == f"{US}/api/v1/customers/ann%40example.com"


def test_the_spec_s_other_id_fields_count_as_the_user_id():
    # given a mobile identify whose id is only in context.traits
    message = {"type": "identify", "context": {"traits": {"userId": "u9", "email": "a@example.com"}}}
    # when it is transformed
    request = send(message)
    # then the id wins over the email
    assert request.endpoint == f"{US}/api/v1/customers/u9"


def test_without_user_id_or_email_the_identify_is_refused():
    with pytest.raises(InstrumentationError, match="userId or email"):
        send({"type": "identify", "anonymousId": "anon-1", "traits": {"plan": "pro"}})


def test_the_address_is_flattened():
    # given an address trait
    address = {"city": "Lyon", "country": "FR", "postalCode": 69001, "state": "ARA", "street": "", "x": 1}
    # when it is transformed
    body = send({**IDENTIFY, "traits": {"address": address}}).body
    # then its five spec'd fields become top-level attributes, and the nested object goes away
    assert body == {"city": "Lyon", "country": "FR", "postalCode": 69001, "state": "ARA", "street": ""}


@pytest.mark.parametrize("address", ["1 Main St", 12, ["1 Main St"], True])
def test_an_address_that_is_not_an_object_is_left_out(address):
    # given an address trait that is not an object: RudderStack reads only its five fields, so it drops it
    # when it is transformed
    body = send({**IDENTIFY, "traits": {"address": address, "plan": "pro"}}).body
    # then the other traits go, and the address does not
    assert body == {"plan": "pro"}


def test_a_trait_named_like_the_address_fields_wins_over_the_address():
    body = send({**IDENTIFY, "traits": {"address": {"city": "Lyon"}, "city": "Paris"}}).body
    assert body == {"city": "Paris"}


def test_dotted_trait_names_stay_literal():
    # given traits whose names contain dots
    traits = {"dot.name": "Arnab", "a.b.c": 1}
    # when they are transformed
    body = send({**IDENTIFY, "traits": traits}).body
    # then the names are kept, not nested
    assert body == {"dot.name": "Arnab", "a.b.c": 1}


@pytest.mark.parametrize(
    ("created_at", "seconds"),
    [
        ("2019-10-14T09:03:17.562Z", 1571043797),
        ("2019-10-14T11:03:17+02:00", 1571043797),
        ("1969-07-20T20:17:40Z", -14182940),
        (1571043797, 1571043797),
    ],
)
def test_created_at_becomes_unix_seconds(created_at, seconds):
    # given a createdAt trait
    # when it is transformed
    body = send({**IDENTIFY, "traits": {"createdAt": created_at}}).body
    # then it is sent as created_at in unix seconds (a number is taken as unix time already)
    assert body == {"created_at": seconds}


def test_created_at_from_context_traits():
    body = send({**IDENTIFY, "traits": {"a": 1}, "context": {"traits": {"createdAt": "2020-01-01"}}}).body
    assert body == {"a": 1, "created_at": 1577836800}


def test_a_created_at_that_is_not_a_date_is_left_out_and_said_so():
    # given a createdAt that no reader can read
    # when it is transformed
    request = send({**IDENTIFY, "traits": {"createdAt": "last tuesday", "plan": "pro"}})
    # then the person is still identified, without created_at, and the request says why
    assert request.body == {"plan": "pro"}
    assert request.notes == (
        "traits.createdAt 'last tuesday' is not a date, so it was left out of the request",
    )


def test_the_sdk_s_identifier_traits_are_not_attributes():
    body = send({**IDENTIFY, "traits": {"anonymousId": "a1", "userId": "u1", "plan": "pro"}}).body
    assert body == {"plan": "pro"}


def test_deprecated_user_properties_are_merged_over_the_traits():
    # given an old SDK's user_properties next to traits
    message = {**IDENTIFY, "traits": {"plan": "free", "a": 1}, "user_properties": {"plan": "pro", "b": 2}}
    # when it is transformed
    body = send(message).body
    # then both are attributes, user_properties winning
    assert body == {"plan": "pro", "a": 1, "b": 2}


def test_user_properties_that_are_not_an_object_are_refused():
    with pytest.raises(InstrumentationError, match="user_properties"):
        send({**IDENTIFY, "user_properties": ["a"]})


def test_the_anonymous_id_is_sent_to_merge_earlier_anonymous_events():
    assert send({**IDENTIFY, "anonymousId": "anon-1"}).body == {"anonymous_id": "anon-1"}


def test_the_event_time_is_sent_as_timestamp_for_ordering():
    # given an identify with both times
    message = {**IDENTIFY, "timestamp": "2019-10-14T09:03:17.562Z", "originalTimestamp": "2000-01-01"}
    # when it is transformed
    # then _timestamp is the timestamp in unix seconds
    assert send(message).body == {"_timestamp": 1571043797}


def test_the_original_timestamp_is_used_when_there_is_no_timestamp():
    assert send({**IDENTIFY, "originalTimestamp": "2000-01-01T00:00:00Z"}).body == {"_timestamp": 946684800}


@pytest.mark.parametrize("unsubscribed", [True, False])
def test_unsubscribed_is_passed_through(unsubscribed):
    # Customer.io reads the "unsubscribed" attribute to stop or allow messages to the person.
    assert send({**IDENTIFY, "traits": {"unsubscribed": unsubscribed}}).body == {"unsubscribed": unsubscribed}


def test_context_traits_are_used_when_there_are_no_traits():
    message = {**IDENTIFY, "context": {"traits": {"name": "Ann", "anonymousId": "a1"}}}
    assert send(message).body == {"name": "Ann"}


def test_traits_win_over_context_traits():
    message = {**IDENTIFY, "traits": {"name": "Ann"}, "context": {"traits": {"name": "Bob", "age": 3}}}
    assert send(message).body == {"name": "Ann"}


@pytest.mark.parametrize("traits", [["a", "b"], "plan=pro", 42])
def test_traits_that_are_not_an_object_are_refused(traits):
    with pytest.raises(InstrumentationError, match="traits must be a JSON object"):
        send({**IDENTIFY, "traits": traits})


def test_a_reverse_etl_row_is_addressed_by_its_external_id():
    # given a warehouse row mapped to the destination, its id in context.externalId
    message = {
        "type": "identify",
        "traits": {"first_name": "Charles"},
        "context": {
            "mappedToDestination": "true",
            "externalId": [{"id": "xc-1", "identifierType": "id", "type": "CUSTOMERIO-customers"}],
        },
    }
    # when it is transformed
    request = send(message)
    # then the external id is the person, and a trait named after its type
    assert request.endpoint == f"{US}/api/v1/customers/xc-1"
    assert request.body == {"first_name": "Charles", "id": "xc-1"}
    assert message["traits"] == {"first_name": "Charles"}, "the input must not be modified"
