"""What a row becomes: the record message a warehouse sync stores for it (no database needed)."""

from __future__ import annotations

import datetime
import decimal
from types import SimpleNamespace

import pytest

from destinations.warehouse import mapping


def config(**fields) -> SimpleNamespace:
    defaults = dict(
        pk=7,
        name="crm",
        kind="person",
        identifier="id",
        identifier_column="user_id",
        event_name_column="",
        event_name="",
        timestamp_column="",
        object_type_id="",
        relationships_column="",
    )
    return SimpleNamespace(**{**defaults, **fields})


def test_a_person_row_is_its_identifier_and_the_other_columns_as_attributes():
    # Given a person row with database types
    row = {
        "user_id": 42,
        "plan": "pro",
        "seats": decimal.Decimal("3"),
        "price": decimal.Decimal("9.5"),
        "joined": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "birthday": datetime.date(1990, 5, 6),
        "nickname": None,
    }
    # When it is mapped and made a record
    mapped = mapping.map_row(config(), row)
    record = mapping.record(config(), mapped.message, mapping.INSERT, "m-1", 99)
    # Then it is RudderStack's record shape, values as JSON
    assert record == {
        "type": "record",
        "action": "insert",
        "object": "person",
        "identifiers": {"id": "42"},
        "fields": {
            "plan": "pro",
            "seats": 3,
            "price": 9.5,
            "joined": "2026-01-02T03:04:05+00:00",
            "birthday": "1990-05-06",
            "nickname": None,
        },
        "messageId": "m-1",
        "context": {"sources": {"job_id": "7", "job_run_id": "99", "task_run_id": "99", "name": "crm"}},
        "channel": "sources",
    }
    assert mapped.key == "42"


def test_the_fingerprint_follows_the_content_and_not_the_column_order():
    same = mapping.map_row(config(), {"user_id": "a", "plan": "pro", "seats": 1})
    reordered = mapping.map_row(config(), {"seats": 1, "plan": "pro", "user_id": "a"})
    changed = mapping.map_row(config(), {"user_id": "a", "plan": "free", "seats": 1})
    assert same.fingerprint == reordered.fingerprint
    assert same.fingerprint != changed.fingerprint


def test_an_event_row_has_its_name_timestamp_and_data():
    source = config(kind="event", identifier="email", identifier_column="email", event_name_column="what")
    source.timestamp_column = "at"
    row = {"email": "ann@example.com", "what": "Order Placed", "at": 1767225600, "total": 12}
    mapped = mapping.map_row(source, row)
    assert mapped.message == {
        "object": "event",
        "identifiers": {"email": "ann@example.com"},
        "event": "Order Placed",
        "fields": {"created_at": 1767225600, "total": 12},
    }
    # An event has no identity of its own: its key is its content
    assert mapped.key == mapped.fingerprint


def test_an_event_with_a_fixed_name():
    source = config(kind="event", event_name="Plan Renewed")
    assert mapping.map_row(source, {"user_id": "u1", "plan": "pro"}).message["event"] == "Plan Renewed"


@pytest.mark.parametrize(
    ("related", "expected"),
    [
        ("u1, u2,,u3", ["u1", "u2", "u3"]),
        ('["u1", 2]', ["u1", "2"]),
        (["u1", "u2"], ["u1", "u2"]),
        (7, ["7"]),
        (None, []),
    ],
)
def test_an_object_row_has_its_type_id_and_relationships(related, expected):
    source = config(kind="object", identifier_column="account", object_type_id="1")
    source.relationships_column = "members"
    mapped = mapping.map_row(source, {"account": "acme", "name": "Acme", "members": related})
    assert mapped.message == {
        "object": "object",
        "identifiers": {"object_type_id": "1", "object_id": "acme"},
        "relationships": [{"id": person} for person in expected],
        "fields": {"name": "Acme"},
    }


@pytest.mark.parametrize(
    ("source", "row", "reason"),
    [
        (config(), {"user_id": None, "plan": "pro"}, "column 'user_id' (the identifier) is empty"),
        (config(), {"user_id": "  ", "plan": "pro"}, "column 'user_id' (the identifier) is empty"),
        (config(), {"user_id": "u", "avatar": b"\x89PNG"}, "column 'avatar' holds binary data"),
        (config(), {"user_id": "x" * 256}, "longer than 255 characters"),
        (config(kind="event", event_name_column="what"), {"user_id": "u", "what": ""}, "the event name"),
        (
            config(kind="object", object_type_id="1", relationships_column="m"),
            {"user_id": "o", "m": "[not json"},
            "is not a valid JSON list",
        ),
    ],
)
def test_a_bad_row_is_refused_with_the_column_to_blame(source, row, reason):
    with pytest.raises(mapping.RowError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        mapping.map_row(source, row)


def test_a_removed_row_becomes_a_delete_by_identifiers_only():
    assert mapping.removal(config(identifier="email"), "a@example.com") == {
        "object": "person",
        "identifiers": {"email": "a@example.com"},
    }
    assert mapping.removal(config(kind="object", object_type_id="2"), "acme") == {
        "object": "object",
        "identifiers": {"object_type_id": "2", "object_id": "acme"},
    }


def test_message_ids_are_stable_per_change_and_differ_between_changes():
    first = mapping.message_id(config(), "42", 1, "aaa")
    assert first == mapping.message_id(config(), "42", 1, "aaa")
    # The same content coming back after a change is a change of its own
    assert first != mapping.message_id(config(), "42", 3, "aaa")
    assert first != mapping.message_id(config(pk=8), "42", 1, "aaa")
