"""Email detection agrees with the reference's (validator.js isEmail, default options)."""

from __future__ import annotations

import pytest

from destinations.customerio.emails import is_email
from tests.transformer.helpers import send

EMAILS = [
    "a@example.com",
    "first.last+tag@sub.example.co.uk",
    "o'brien@example.ie",
    "user@xn--bcher-kva.example",
    "üser@exämple.de",
    '"quoted name"@example.com',
    "x@y.zz",
    "a" * 64 + "@example.com",
]
NOT_EMAILS = [
    "a@b.c",  # a one-letter top-level domain
    "x@y.z1",  # a top-level domain with a digit
    "x@y.123",
    "a@under_score.com",
    "a@example.com.",  # a trailing dot
    "a@[127.0.0.1]",  # an IP-literal domain
    "a@127.0.0.1",
    "a..b@example.com",
    "a@example..com",
    ".a@example.com",
    "a.@example.com",
    "a@-example.com",
    "a@example-.com",
    "a@localhost",
    "a b@example.com",
    "a@b@example.com",
    "@example.com",
    "a@",
    "plain",
    "",
    "a" * 65 + "@example.com",
    "a@" + "b" * 64 + ".com",
    "a@example.\uff43\uff4f\uff4d",
    "😀@example.com",
    None,
    12,
]


@pytest.mark.parametrize("value", EMAILS)
def test_addresses_the_reference_takes(value):
    assert is_email(value)


@pytest.mark.parametrize("value", NOT_EMAILS)
def test_shapes_the_reference_refuses(value):
    assert not is_email(value)


@pytest.mark.parametrize(("user_id", "key"), [("a@b.c", "id"), ("a@b.co", "email"), ("x@y.z1", "id")])
def test_an_alias_names_people_by_the_same_rule(user_id, key):
    # given an alias whose userId may look like an email
    body = send({"type": "alias", "userId": user_id, "previousId": "old"}).body
    # then it is an email only when the reference's rule says so
    assert body["primary"] == {key: user_id}
