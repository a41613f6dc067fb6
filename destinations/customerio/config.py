"""A destination's settings, parsed once: RudderStack's `Config` keys plus ours.

`TransformConfig.from_mapping` takes exactly what `destinations.rudderstack_config.to_config()` returns
(extra keys are ignored). Parsing is cached by value, because the delivery engine passes the same
config dict for thousands of messages.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from destinations.customerio.endpoints import HOSTS
from destinations.customerio.errors import ConfigurationError

API_VERSIONS = ("v1", "v2")
RECORD_OBJECTS = ("person", "event", "object")
_FLAGS = ("convertToUnixTime", "cioIdentifiers", "deduplicationIds", "checkLimits")
_KEYS = (
    "siteID",
    "apiKey",
    "datacenter",
    "datacenterEU",
    "deviceTokenEventName",
    "apiVersion",
    "recordObject",
    *_FLAGS,
)


@dataclass(frozen=True)
class TransformConfig:
    site_id: str
    api_key: str = field(repr=False)
    data_center: str = "US"
    device_token_event_name: str = ""
    api_version: str = "v1"
    # What `record` messages describe when they do not say (person, event or object): RudderStack passes
    # it as the connection's `config.destination.object`, which from_mapping also reads.
    record_object: str = ""
    convert_to_unix_time: bool = False
    cio_identifiers: bool = False
    deduplication_ids: bool = False
    check_limits: bool = False
    base_url: str = field(init=False)
    authorization: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The reference's wording, so people migrating recognise it.
        for key, value in (("siteID", self.site_id), ("apiKey", self.api_key)):
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"{key} not found in Configs")
        if self.data_center not in HOSTS:
            raise ConfigurationError(f"datacenter must be US or EU, got {self.data_center!r}")
        if self.api_version not in API_VERSIONS:
            raise ConfigurationError(f"apiVersion must be v1 or v2, got {self.api_version!r}")
        try:
            credentials = f"{self.site_id}:{self.api_key}".encode()
        except UnicodeEncodeError:
            raise ConfigurationError("siteID and apiKey must be valid Unicode text") from None
        object.__setattr__(self, "base_url", HOSTS[self.data_center])
        object.__setattr__(self, "authorization", "Basic " + base64.b64encode(credentials).decode())

    @classmethod
    def from_mapping(cls, mapping: Any) -> TransformConfig:
        if isinstance(mapping, TransformConfig):
            return mapping
        if not isinstance(mapping, Mapping):
            raise ConfigurationError("the destination config must be a JSON object")
        connection = mapping.get("connection")
        if "siteID" not in mapping and isinstance(mapping.get("Config"), Mapping):
            mapping = mapping["Config"]  # a whole RudderStack destination export
        values = tuple(map(mapping.get, _KEYS))
        if values[_RECORD_OBJECT] is None and isinstance(connection, Mapping):
            # RudderStack's router input: {"destination": {"Config": ...}, "connection": {"config": ...}}
            record_object = _dig(connection, ("config", "destination", "object"))
            values = (*values[:_RECORD_OBJECT], record_object, *values[_RECORD_OBJECT + 1 :])
        # True == 1 for hashing, so the types are part of the key: 1 must not reuse True's result.
        key = values + tuple(map(type, values))
        try:
            hash(key)
        except TypeError:
            return _parse(values)
        return _parse_cached(key)

    def headers(self, json_body: bool = False) -> dict[str, str]:
        """A fresh dict each time: callers may add headers without touching other requests."""
        if json_body:
            return {"Authorization": self.authorization, "Content-Type": "application/json"}
        return {"Authorization": self.authorization}


_RECORD_OBJECT = _KEYS.index("recordObject")


def _dig(mapping: Mapping, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


@lru_cache(maxsize=256)
def _parse_cached(key: tuple[Any, ...]) -> TransformConfig:
    return _parse(key[: len(_KEYS)])


def _parse(values: tuple[Any, ...]) -> TransformConfig:
    raw = dict(zip(_KEYS, values, strict=True))
    flags = [_flag(key, raw[key]) for key in _FLAGS]
    return TransformConfig(
        _credential("siteID", raw["siteID"]),
        _credential("apiKey", raw["apiKey"]),
        _data_center(raw["datacenter"], raw["datacenterEU"]),
        _optional_text("deviceTokenEventName", raw["deviceTokenEventName"]),
        _optional_text("apiVersion", raw["apiVersion"]) or "v1",
        _record_object(raw["recordObject"]),
        *flags,
    )


def _credential(key: str, value: Any) -> str:
    if value is None or value == "":
        raise ConfigurationError(f"{key} not found in Configs")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a numeric site ID pasted from a spreadsheet still works
    if not isinstance(value, str):
        raise ConfigurationError(f"{key} must be a string")
    return value


def _data_center(value: Any, legacy_eu: Any) -> str:
    if value is None or value == "":
        return "EU" if legacy_eu is True else "US"  # older configs had a datacenterEU checkbox
    if not isinstance(value, str) or value.upper() not in HOSTS:
        raise ConfigurationError(f"datacenter must be US or EU, got {value!r}")
    return value.upper()


def _optional_text(key: str, value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigurationError(f"{key} must be a string")
    return value


def _record_object(value: Any) -> str:
    if value is None or value == "":
        return ""
    if value not in RECORD_OBJECTS:
        raise ConfigurationError("recordObject must be one of " + ", ".join(RECORD_OBJECTS))
    return value


def _flag(key: str, value: Any) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConfigurationError(f"{key} must be true or false")
    return value
