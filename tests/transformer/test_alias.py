"""alias -> POST /api/v1/merge_customers: previousId's person is merged into userId's."""

from __future__ import annotations

import pytest

from destinations.customerio import InstrumentationError
from tests.transformer.helpers import US, item, send


def test_an_alias_merges_the_previous_person_into_the_user():
    # given an alias from an old id to a new one
    # when it is transformed
    request = send({"type": "alias", "userId": "new-1", "previousId": "old-1"})
    # then Customer.io merges old (secondary) into new (primary)
    assert (request.method, request.endpoint) == ("POST", f"{US}/api/v1/merge_customers")
    assert request.body == {"primary": {"id": "new-1"}, "secondary": {"id": "old-1"}}


def test_emails_are_merged_as_emails():
    request = send({"type": "alias", "userId": "new@x.io", "previousId": "old@x.io"})
    assert request.body == {"primary": {"email": "new@x.io"}, "secondary": {"email": "old@x.io"}}


def test_numeric_ids_are_kept_as_numbers():
    assert send({"type": "alias", "userId": 432, "previousId": 306}).body == {
        "primary": {"id": 432},
        "secondary": {"id": 306},
    }


@pytest.mark.parametrize(
    "message", [{"userId": "new-1"}, {"previousId": "old-1"}, {"userId": "", "previousId": ""}]
)
def test_an_alias_needs_both_ids(message):
    with pytest.raises(InstrumentationError, match="userId and previousId"):
        send({"type": "alias", **message})


def test_v2_merges_in_the_batch():
    assert item({"type": "alias", "userId": "new-1", "previousId": "old-1"}, apiVersion="v2") == {
        "type": "person",
        "action": "merge",
        "primary": {"id": "new-1"},
        "secondary": {"id": "old-1"},
    }
