"""RudderStack's Customer.io `Config` object <-> Destination fields: the one place that knows both.

The import command reads a pasted RudderStack config with from_config(); to_config() is RudderStack's
keys plus ours, and transform_config() parses it into what the transformer takes, for the delivery
engine and the event tester alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from destinations import crypto
from destinations.customerio import ConfigurationError, TransformConfig
from destinations.models import Destination

# The values a RudderStack config may hold are the model's own choices (the model keeps RudderStack's
# values), and a key it leaves out takes the field's default: one place for each.
DATA_CENTERS = tuple(Destination.DataCenter.values)
EVENT_FILTERING_OPTIONS = tuple(Destination.EventFiltering.values)
API_VERSIONS = tuple(Destination.ApiVersion.values)


def _default(field_name: str) -> Any:
    return Destination._meta.get_field(field_name).get_default()


class ConfigError(ValueError):
    """A config value is missing or of the wrong shape; `key` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def transform_config(destination: Destination) -> TransformConfig:
    """The destination's settings as the transformer takes them. Raises ConfigurationError for settings
    that cannot be used, such as an API key this installation cannot decrypt."""
    if isinstance(destination.api_key, crypto.UnreadableSecret):
        raise ConfigurationError(
            "the stored API key cannot be decrypted with this installation's SECRETS_ENCRYPTION_KEY "
            "(or SECRET_KEY): restore that key, or enter the API key again in the destination's settings"
        )
    return TransformConfig.from_mapping(to_config(destination))


def to_config(destination: Destination) -> dict[str, Any]:
    return {
        "siteID": destination.site_id,
        "apiKey": destination.api_key,
        "datacenter": destination.data_center,
        "deviceTokenEventName": destination.device_token_event_name,
        "useNativeSDK": {"web": destination.use_native_sdk},
        "sendPageNameInSDK": {"web": destination.send_page_name_in_sdk},
        "dataUseInApp": {"web": destination.enable_in_app_messages},
        "autoTrackDeviceAttributes": {
            "android": destination.auto_track_device_attributes,
            "ios": destination.auto_track_device_attributes,
        },
        "backgroundQueueMinNumberOfTasks": {"android": destination.android_background_queue_min_tasks},
        "backgroundQueueSecondsDelay": {"android": destination.android_background_queue_delay_seconds},
        "eventFilteringOption": destination.event_filtering,
        "whitelistedEvents": [{"eventName": name} for name in destination.allowlisted_events],
        "blacklistedEvents": [{"eventName": name} for name in destination.denylisted_events],
        "oneTrustCookieCategories": [
            {"oneTrustCookieCategory": category} for category in destination.onetrust_cookie_categories
        ],
        "ketchConsentPurposes": [{"purpose": purpose} for purpose in destination.ketch_consent_purposes],
        "apiVersion": destination.api_version,
        "strictOrdering": destination.strict_ordering,
        "rateLimitPerSecond": destination.rate_limit_per_second,
        "retryHorizonSeconds": int(destination.retry_horizon.total_seconds()),
        "convertToUnixTime": destination.convert_to_unix_time,
        "cioIdentifiers": destination.cio_identifiers,
        "deduplicationIds": destination.deduplication_ids,
        "checkLimits": destination.check_limits,
    }


def from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Destination field values from a RudderStack `Config` (or a destination export holding one)."""
    if not isinstance(config, Mapping):
        raise ConfigError("Config", "must be a JSON object")
    if isinstance(config.get("Config"), Mapping):
        config = config["Config"]
    fields: dict[str, Any] = {
        "site_id": _required_string(config, "siteID"),
        "api_key": _required_string(config, "apiKey"),
        "data_center": _data_center(config),
        "device_token_event_name": _string(config, "deviceTokenEventName"),
        "use_native_sdk": _platform_flag(config, "useNativeSDK", "web", _default("use_native_sdk")),
        "send_page_name_in_sdk": _platform_flag(
            config, "sendPageNameInSDK", "web", _default("send_page_name_in_sdk")
        ),
        "enable_in_app_messages": _platform_flag(
            config, "dataUseInApp", "web", _default("enable_in_app_messages")
        ),
        "auto_track_device_attributes": _platform_flag(
            config, "autoTrackDeviceAttributes", "android", _default("auto_track_device_attributes")
        ),
        "android_background_queue_min_tasks": _platform_int(
            config, "backgroundQueueMinNumberOfTasks", _default("android_background_queue_min_tasks")
        ),
        "android_background_queue_delay_seconds": _platform_int(
            config, "backgroundQueueSecondsDelay", _default("android_background_queue_delay_seconds")
        ),
        "event_filtering": _one_of(
            config, "eventFilteringOption", EVENT_FILTERING_OPTIONS, _default("event_filtering")
        ),
        "allowlisted_events": _names(config, "whitelistedEvents", "eventName"),
        "denylisted_events": _names(config, "blacklistedEvents", "eventName"),
        "onetrust_cookie_categories": _names(config, "oneTrustCookieCategories", "oneTrustCookieCategory"),
        "ketch_consent_purposes": _names(config, "ketchConsentPurposes", "purpose"),
        "api_version": _one_of(config, "apiVersion", API_VERSIONS, _default("api_version")),
        "strict_ordering": _flag(config, "strictOrdering", _default("strict_ordering")),
        "rate_limit_per_second": _positive_int(
            config, "rateLimitPerSecond", _default("rate_limit_per_second")
        ),
        "retry_horizon": timedelta(
            seconds=_positive_int(
                config, "retryHorizonSeconds", int(_default("retry_horizon").total_seconds())
            )
        ),
        "convert_to_unix_time": _flag(config, "convertToUnixTime", _default("convert_to_unix_time")),
        "cio_identifiers": _flag(config, "cioIdentifiers", _default("cio_identifiers")),
        # Off unless the config turns it on: RudderStack sends no ids, and an import behaves as there.
        "deduplication_ids": _flag(config, "deduplicationIds", False),
        "check_limits": _flag(config, "checkLimits", _default("check_limits")),
    }
    _merge_consent_management(config, fields)
    return fields


def _string(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(key, "must be a string")
    return value.strip()


def _required_string(config: Mapping[str, Any], key: str) -> str:
    value = _string(config, key)
    if not value:
        raise ConfigError(key, "is required")
    return value


def _data_center(config: Mapping[str, Any]) -> str:
    if config.get("datacenterEU") is True and "datacenter" not in config:
        return "EU"  # older RudderStack configs had a checkbox instead of the choice
    value = _string(config, "datacenter").upper() or _default("data_center")
    if value not in DATA_CENTERS:
        raise ConfigError("datacenter", f"must be US or EU, got {value!r}")
    return value


def _one_of(config: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = _string(config, key) or default
    if value not in allowed:
        raise ConfigError(key, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _flag(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(key, "must be true or false")
    return value


def _platform_flag(config: Mapping[str, Any], key: str, platform: str, default: bool) -> bool:
    """RudderStack keeps device-mode settings per platform: {"web": true}; a bare boolean also works."""
    value = config.get(key)
    if isinstance(value, Mapping):
        value = value.get(platform, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ConfigError(key, "must be true or false")
    return value


def _platform_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key)
    if isinstance(value, Mapping):
        value = value.get("android")
    if value is None or value == "":
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(key, "must be a whole number")
    return value


def _positive_int(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(key, "must be a whole number of at least 1")
    return value


def _names(config: Mapping[str, Any], key: str, item_key: str) -> list[str]:
    """[{"eventName": "A"}, ...] (or per platform: {"web": [...]}) -> ["A", ...], blanks dropped."""
    value = config.get(key)
    if value is None:
        return []
    if isinstance(value, Mapping):  # per-platform lists: take them all, in order, once each
        value = [item for items in value.values() if isinstance(items, list) for item in items]
    if not isinstance(value, list):
        raise ConfigError(key, "must be a list")
    names: list[str] = []
    for index, item in enumerate(value):
        name = item.get(item_key) if isinstance(item, Mapping) else item
        if name is None:
            continue
        if not isinstance(name, str):
            raise ConfigError(f"{key}[{index}].{item_key}", "must be a string")
        if name.strip() and name.strip() not in names:
            names.append(name.strip())
    return names


def _merge_consent_management(config: Mapping[str, Any], fields: dict[str, Any]) -> None:
    """Newer RudderStack configs hold consent as consentManagement: {platform: [{provider, consents}]}."""
    value = config.get("consentManagement")
    if not isinstance(value, Mapping):
        return
    targets = {"oneTrust": "onetrust_cookie_categories", "ketch": "ketch_consent_purposes"}
    for entries in value.values():
        for entry in entries if isinstance(entries, list) else []:
            field = targets.get(entry.get("provider")) if isinstance(entry, Mapping) else None
            if field is None:
                continue
            for consent in _names(entry, "consents", "consent"):
                if consent not in fields[field]:
                    fields[field].append(consent)
