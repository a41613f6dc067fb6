"""GET /v1/schema serves the OpenAPI document, and a schema-driven fuzz run finds no 500."""

from __future__ import annotations

import pytest
import schemathesis
import yaml
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.ingestion.conftest import basic_auth

PATHS = ["identify", "track", "page", "screen", "group", "alias", "batch"]


@pytest.mark.django_db
def test_the_schema_describes_every_endpoint_with_an_sdk_example(client):
    response = client.get("/v1/schema")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.")
    for kind in PATHS:
        for path in (f"/v1/{kind}", f"/v1/import/{kind}"):
            operation = document["paths"][path]["post"]
            examples = operation["requestBody"]["content"]["application/json"]["examples"]
            assert examples, path
            assert {"400", "401", "413", "503"} <= set(operation["responses"])
    assert document["components"]["securitySchemes"]["writeKey"] == {
        "type": "http",
        "scheme": "basic",
        "description": "The source's write key as the user name and an empty password.",
    }


@pytest.fixture
def api_schema(db):
    # As Django's test client does: keep the test's connection (and its transaction) open across requests.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/v1/schema", get_wsgi_application())
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_schema_driven_requests_find_no_server_error(api_schema, source, destination):
    # Given requests generated from the served document, valid ones and invalid ones, with a real key
    headers = {"Authorization": basic_auth(source.write_key), "Host": "localhost"}
    cases = api_schema.as_strategy(GenerationMode.POSITIVE) | api_schema.as_strategy(GenerationMode.NEGATIVE)

    @given(case=cases)
    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case) -> None:
        # Then every answer is documented, matches its schema, and none is a server error. Whether a
        # body is accepted is left to the rejection tests: the document shows what SDKs send, while
        # the API is more lenient on optional fields (a page name that is a number, a null sentAt) and
        # has rules JSON Schema cannot state (no NUL in any nested string, 32 KB of compact JSON).
        case.call_and_validate(
            headers=headers, excluded_checks=[positive_data_acceptance, negative_data_rejection]
        )

    fuzz()
