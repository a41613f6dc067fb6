"""classify(): what each Customer.io answer means, including every recorded vector in delivery.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.utils import timezone

from destinations.track_api.answers import Outcome, classify, parse_retry_after
from destinations.track_api.transport import HttpResult

# The vectors live beside the repository (../shared/conformance), never copied into it.
VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "delivery.json"


def answered(status: int | None, body: str = "", headers: dict | None = None, **fields) -> HttpResult:
    return HttpResult(
        method="POST",
        url="https://track.customer.io/api/v2/batch",
        request_headers={},
        request_body="",
        started_at=timezone.now(),
        duration=0.05,
        status=status,
        response_headers=headers or {},
        response_body=body,
        **fields,
    )


def load_vectors() -> list[dict]:
    return json.loads(VECTORS.read_text())


@pytest.mark.parametrize("vector", load_vectors(), ids=lambda vector: vector["id"])
def test_every_recorded_answer_is_classified_as_the_reference_does(vector):
    # Given Customer.io's recorded answer to a batch
    response = vector["response"]
    items = vector["request"]["body"]["JSON"]["batch"]
    result = answered(response["status"], json.dumps(response["body"], separators=(",", ":")))
    # When it is classified
    verdict = classify(result)
    # Then each item ends as the reference's: 200 delivered, anything else failed with its error
    expected = vector["expected"]["body"]["output"]["response"]
    if len(expected) == len(items):
        per_item = [verdict.for_item(index) for index in range(len(items))]
    else:  # the reference answers a whole-batch failure with one entry for the whole batch
        per_item = [(verdict.outcome, verdict.reason)]
    for (outcome, reason), reference in zip(per_item, expected, strict=True):
        if reference["statusCode"] == 200:
            assert outcome == Outcome.DELIVERED
        else:
            assert outcome == Outcome.FAILED
            assert reference["error"] in reason
    assert verdict.credentials_rejected == (vector["expected"]["status"] == 401)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (400, Outcome.FAILED),
        (404, Outcome.FAILED),
        (413, Outcome.FAILED),
        (422, Outcome.FAILED),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (301, Outcome.FAILED),
    ],
)
def test_status_codes_are_delivered_retried_or_failed(status, outcome):
    assert classify(answered(status, '{"meta":{"error":"x"}}')).outcome == outcome


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_fail_at_once_and_say_so(status):
    verdict = classify(answered(status, '{"meta":{"error":"Unauthorized request"}}'))
    assert verdict.outcome == Outcome.FAILED
    assert verdict.credentials_rejected
    assert verdict.reason.startswith(f"Customer.io answered {status}: ")
    assert "site ID and API key" in verdict.reason


def test_a_timeout_and_a_refused_connection_are_retried():
    timeout = classify(answered(None, error_kind="timeout", error="ReadTimeout: read timed out"))
    refused = classify(answered(None, error_kind="connection", error="ConnectionError: refused"))
    assert (timeout.outcome, refused.outcome) == (Outcome.RETRY, Outcome.RETRY)
    assert "did not answer in time" in timeout.reason
    assert "Could not reach Customer.io" in refused.reason


def test_429_slows_the_destination_down_for_retry_after_seconds():
    verdict = classify(answered(429, "", {"Retry-After": "7"}))
    assert verdict.outcome == Outcome.RETRY
    assert verdict.throttled
    assert verdict.retry_after == 7.0
    assert verdict.reason == "Customer.io answered 429"


def test_207_fails_only_the_items_named_by_batch_index():
    body = {
        "errors": [
            {"batch_index": 2, "reason": "invalid", "field": "identifiers", "message": "missing id"},
            {"reason": "unattributable"},  # no batch_index: fails nothing
        ]
    }
    verdict = classify(answered(207, json.dumps(body)))
    assert [verdict.for_item(index)[0] for index in range(4)] == [
        Outcome.DELIVERED,
        Outcome.DELIVERED,
        Outcome.FAILED,
        Outcome.DELIVERED,
    ]
    assert verdict.for_item(2)[1] == (
        "Customer.io rejected this item: reason: invalid, field: identifiers, message: missing id"
    )


def test_a_207_whose_body_is_not_json_delivers_every_item():
    verdict = classify(answered(207, "<html>oops</html>"))
    assert verdict.for_item(0) == (Outcome.DELIVERED, "")


def test_long_bodies_are_cut_in_the_reason():
    verdict = classify(answered(400, "x" * 5000))
    assert verdict.reason.endswith("...")
    assert len(verdict.reason) < 600


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:45 GMT", now) == 45.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_retry_after_is_capped_at_five_minutes_as_customer_io_s_clients_cap_it():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("99999999999999", now) == 300.0
    assert parse_retry_after("9" * 400, now) == 300.0
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == 300.0
