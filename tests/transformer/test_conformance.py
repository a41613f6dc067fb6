"""Every recorded case of RudderStack's transformer agrees with ours, through the Python API."""

from __future__ import annotations

import pytest

from destinations.customerio import TransformError, transform, transform_stream
from tests.transformer.helpers import (
    assert_request_matches,
    assert_router_results_match,
    case_config,
    cases,
)

PROCESSOR = cases("processor.json")
ROUTER = cases("router.json") + cases("router_v2.json")


def test_the_vectors_are_there():
    # A missing or emptied vector file must fail loudly, not parametrise zero tests.
    assert len(PROCESSOR) >= 40 and len(ROUTER) >= 17


@pytest.mark.parametrize("case", PROCESSOR, ids=[case["id"] for case in PROCESSOR])
def test_processor_case(case):
    # given a message and a destination config recorded from the reference
    # when it is transformed
    if "expected_error" in case:
        # then it fails as the reference's does
        with pytest.raises(TransformError) as failure:
            transform(case["message"], case_config(case))
        assert failure.value.message
        return
    requests = transform(case["message"], case_config(case))
    # then the requests are the reference's
    assert len(requests) == len(case["expected"])
    for expected, request in zip(case["expected"], requests, strict=True):
        assert_request_matches(expected, request.to_dict())


@pytest.mark.parametrize("case", ROUTER, ids=[case["id"] for case in ROUTER])
def test_router_case(case):
    # given one destination's stream of messages
    # when the stream is transformed and combined
    results = transform_stream(case["messages"], case_config(case)).results()
    # then the outgoing requests and the failures are the reference's, in its order
    assert_router_results_match(case["expected"], [result.to_dict() for result in results])


@pytest.mark.parametrize(
    ("case_id", "wording"),
    [("test-1", "apiKey not found in Configs"), ("test-3", "userId or email is not present")],
)
def test_errors_keep_the_reference_wording_where_people_know_it(case_id, wording):
    # given a case whose error message people migrating from RudderStack have seen
    case = next(case for case in PROCESSOR if case["id"] == case_id)
    # when it is transformed
    with pytest.raises(TransformError) as failure:
        transform(case["message"], case["config"])
    # then the wording is the same
    assert failure.value.message == wording
