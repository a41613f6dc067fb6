"""The OpenAPI description of the ingestion API, built by drf-spectacular from the same constants the
validation uses (message types, required fields, object fields, limits), with what an SDK sends as
examples. Served at GET /v1/schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from delivery.ingestion import examples
from delivery.ingestion.sizes import MAX_BATCH_EVENTS, MAX_EVENT_BYTES, MAX_MESSAGE_ID_LENGTH
from delivery.ingestion.validation import (
    IDENTITY_FIELDS,
    MESSAGE_TYPES,
    OBJECT_FIELDS,
    RECORD_ACTIONS,
    RECORD_OBJECT_IDS,
    REQUIRED_IDS,
)
from destinations.customerio.config import RECORD_OBJECTS
from destinations.customerio.message import RECORD_IDENTIFIERS

SECURITY_SCHEME = "writeKey"
NOT_BLANK = r"\S"
IDENTIFIER = {"oneOf": [{"type": "string", "pattern": NOT_BLANK}, {"type": "number"}]}
TIME = {"type": "string", "format": "date-time"}
OBJECT = {"type": "object", "additionalProperties": True}
ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "What was wrong, naming the field (and batch index)."},
        "code": {"type": "string"},
        "message": {"type": "string", "description": "The same text as `error`, for the SDKs."},
    },
    "required": ["error", "code", "message"],
}
ERRORS = {
    400: "Not JSON, not an object, or a message breaks a rule; the message names the field.",
    401: "Missing or invalid write key.",
    404: "The source is disabled.",
    413: f"Over a limit: 4 MB per request, {MAX_EVENT_BYTES // 1024} KB per event, "
    f"{MAX_BATCH_EVENTS} events per batch.",
    415: "A Content-Encoding other than gzip.",
    429: "Over the write key's rate limit; see Retry-After.",
    503: "The event store is unavailable; nothing was stored.",
}


def message_schema(kind: str) -> dict[str, Any]:
    """A message of one type, as the validation rules accept it."""
    if kind == "record":
        return record_schema()
    properties: dict[str, Any] = {
        "type": {"type": "string", "enum": [kind]},
        **dict.fromkeys(IDENTITY_FIELDS, IDENTIFIER),
        "messageId": {"type": "string", "maxLength": MAX_MESSAGE_ID_LENGTH},
        **dict.fromkeys(OBJECT_FIELDS, OBJECT),
        "timestamp": TIME,
        "originalTimestamp": TIME,
        "sentAt": TIME,
        "channel": {"type": "string"},
    }
    required: list[str] = []
    if kind == "track":
        properties["event"] = {"type": "string", "pattern": NOT_BLANK}
        required.append("event")
    if kind in ("page", "screen"):
        properties["name"] = {"type": "string"}
    if kind in REQUIRED_IDS:
        properties[REQUIRED_IDS[kind]] = IDENTIFIER
        required.append(REQUIRED_IDS[kind])
    schema = {
        "type": "object",
        "description": f"A {kind} message (Segment/RudderStack spec). Events over "
        f"{MAX_EVENT_BYTES // 1024} KB as compact JSON are refused.",
        "properties": properties,
        "anyOf": [{"required": [field]} for field in IDENTITY_FIELDS],
        "additionalProperties": True,
    }
    return {**schema, "required": required} if required else schema


OBJECT_KIND = {"type": "string", "enum": list(RECORD_OBJECTS)}
DESTINATION = {"type": "object", "properties": {"object": OBJECT_KIND}}


def record_schema() -> dict[str, Any]:
    identifiers = {
        "type": "object",
        "additionalProperties": True,
        "properties": dict.fromkeys(RECORD_IDENTIFIERS, IDENTIFIER),
    }
    return {
        "type": "object",
        "description": "A row of a table (RudderStack's reverse-ETL record): a person (identified by "
        "cio_id, id or email), an event of a person, or an object (identifiers.object_type_id, object_id).",
        "properties": {
            "type": {"type": "string", "enum": ["record"]},
            "action": {"type": "string", "enum": list(RECORD_ACTIONS)},
            "object": OBJECT_KIND,
            "identifiers": identifiers,
            "fields": OBJECT,
            "event": {"type": "string"},
            "relationships": {"type": "array", "items": OBJECT},
            "connection": {
                "type": "object",
                "description": "config.destination.object says what the rows are, as RudderStack passes "
                "it; the record's own object wins.",
                "properties": {"config": {"type": "object", "properties": {"destination": DESTINATION}}},
            },
            "messageId": {"type": "string", "maxLength": MAX_MESSAGE_ID_LENGTH},
            "context": OBJECT,
        },
        "required": ["action", "identifiers"],
        "anyOf": [
            *({"properties": {"identifiers": {"required": [key]}}} for key in RECORD_IDENTIFIERS),
            {"properties": {"identifiers": {"required": list(RECORD_OBJECT_IDS)}}},
        ],
        "additionalProperties": True,
    }


def batch_schema(item_refs: list[dict]) -> dict[str, Any]:
    items = {"oneOf": [{"allOf": [ref, {"required": ["type"]}]} for ref in item_refs]}
    return {
        "type": "object",
        "properties": {
            "batch": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH_EVENTS, "items": items},
            "sentAt": TIME,
            "writeKey": {"type": "string", "description": "Accepted instead of HTTP Basic auth."},
        },
        "required": ["batch"],
    }


class IngestSchema(AutoSchema):
    """Describes one IngestView endpoint from its message_type and historical flag."""

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _kind(self) -> str:
        return self.view.message_type or "batch"

    def get_operation(self, *args: Any, **kwargs: Any) -> dict | None:
        operation = super().get_operation(*args, **kwargs)
        if operation and "requestBody" in operation:
            operation["requestBody"]["required"] = True
        return operation

    def get_operation_id(self) -> str:
        if self.path.endswith("/import"):
            return "import"
        return f"import_{self._kind()}" if self.view.historical else self._kind()

    def get_tags(self) -> list[str]:
        return ["import"] if self.view.historical else ["ingestion"]

    def get_summary(self) -> str:
        noun = "a batch of messages" if self._kind() == "batch" else f"a {self._kind()} message"
        return f"Import {noun} (historical)" if self.view.historical else f"Send {noun}"

    def get_description(self) -> str:
        when = (
            "The client's timestamp is kept as sent (no clock-skew correction)."
            if self.view.historical
            else "timestamp is corrected for the client's clock when sentAt is sent."
        )
        return (
            "Answers 200 only once the events and their deliveries are stored. messageId, receivedAt, "
            f"context.ip and channel are filled in when absent; {when} A messageId already stored for "
            "this source is answered 200 and not stored again."
        )

    def get_request_serializer(self) -> dict:
        """The body's schema by media type (SDKs send application/json, gzipped or not)."""
        kind = self.view.message_type
        if kind:
            return {"application/json": self._component(kind.capitalize(), message_schema(kind))}
        refs = [self._component(name.capitalize(), message_schema(name)) for name in MESSAGE_TYPES]
        return {"application/json": self._component("Batch", batch_schema(refs))}

    def get_response_serializers(self) -> dict:
        success = {"type": "object", "properties": {"success": {"type": "boolean"}}, "required": ["success"]}
        responses = {200: OpenApiResponse(self._component("Success", success), description="Stored.")}
        error = self._component("Error", ERROR)
        responses.update({code: OpenApiResponse(error, description=text) for code, text in ERRORS.items()})
        return responses

    def get_auth(self) -> list[dict]:
        scheme = {
            "type": "http",
            "scheme": "basic",
            "description": "The source's write key as the user name and an empty password.",
        }
        self.registry.register_on_missing(
            ResolvedComponent(SECURITY_SCHEME, ResolvedComponent.SECURITY_SCHEMA, scheme, SECURITY_SCHEME)
        )
        return [{SECURITY_SCHEME: []}]

    def get_examples(self) -> list[OpenApiExample]:
        return [
            OpenApiExample(name, value=value, request_only=True)
            for name, value in examples.for_endpoint(self.view.message_type)
        ]
