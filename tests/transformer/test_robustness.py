"""Whatever JSON arrives, transform answers with requests or a TransformError, never anything else."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from destinations.customerio import OutgoingRequest, TransformError, encode_json, transform, transform_stream
from tests.transformer.helpers import config

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
)

# Messages shaped like the spec, with any JSON where the spec's fields are, to reach the deep paths.
FIELDS = [
    "userId", "anonymousId", "previousId", "groupId", "event", "name", "timestamp", "originalTimestamp",
    "messageId", "traits", "properties", "user_properties", "context",
]  # fmt: skip
TYPES = st.sampled_from(["identify", "track", "page", "screen", "group", "alias", "Track", "other"])
DATES = st.sampled_from(["2019-10-14T09:03:17.562Z", "2022-01-10T20:39:03.955+05:30", "1900-01-01", "nope"])
EVENTS = st.sampled_from(
    ["Application Installed", "Application Opened", "Application Uninstalled", "Clicked"]
)
field_values = json_values | DATES | EVENTS | st.sampled_from(["cio_1", "a@b.co", "u/1"])
contexts = st.fixed_dictionaries(
    {},
    optional={
        "traits": json_values
        | st.dictionaries(st.sampled_from(["email", "userId", "id", "createdAt"]), field_values),
        "device": st.dictionaries(st.sampled_from(["token", "type", "model"]), field_values),
        "externalId": st.lists(
            st.dictionaries(st.sampled_from(["id", "identifierType"]), field_values), max_size=2
        ),
        "mappedToDestination": json_values,
        "os": json_values,
        "app": json_values,
        "locale": json_values,
    },
)
messages = st.builds(
    lambda kind, fields, context: {"type": kind, **fields, "context": context},
    TYPES,
    st.dictionaries(st.sampled_from(FIELDS), field_values),
    contexts,
)
configs = st.builds(
    config,
    apiVersion=st.sampled_from(["v1", "v2"]),
    datacenter=st.sampled_from(["US", "EU"]),
    deviceTokenEventName=st.sampled_from(["", "Clicked"]),
    convertToUnixTime=st.booleans(),
    cioIdentifiers=st.booleans(),
    deduplicationIds=st.booleans(),
    checkLimits=st.booleans(),
)


def answers(message, settings_) -> None:
    try:
        requests = transform(message, settings_)
    except TransformError as error:
        assert error.kind in ("instrumentation", "configuration") and error.message
        return
    assert requests and all(isinstance(request, OutgoingRequest) for request in requests)
    for request in requests:
        encode_json(request.to_dict())  # what comes out can always be sent as JSON


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=json_values, settings_=configs)
def test_any_json_value_as_a_message(message, settings_):
    answers(message, settings_)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages, settings_=configs)
def test_any_json_in_the_spec_s_fields(message, settings_):
    answers(message, settings_)


@settings(max_examples=200, deadline=None)
@given(
    message=messages,
    settings_=json_values | st.dictionaries(st.sampled_from(["siteID", "apiKey"]), json_values),
)
def test_any_json_as_a_config(message, settings_):
    answers(message, settings_)


@settings(max_examples=100, deadline=None)
@given(stream=st.lists(messages | json_values, max_size=8), settings_=configs)
def test_any_stream(stream, settings_):
    results = transform_stream(stream, settings_).results()
    indexes = sorted(index for result in results for index in result.messages)
    assert indexes == list(range(len(stream)))
