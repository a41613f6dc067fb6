"""Sources (where events come from) and Customer.io destinations (where they go)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from destinations import crypto
from destinations.fields import EncryptedTextField
from destinations.validators import (
    validate_api_key,
    validate_name_list,
    validate_origin_list,
    validate_site_id,
    validate_webhook_signing_key,
)

WRITE_KEY_BYTES = 24
# The source the admin's event tester stores its test events under (created disabled on first use).
TESTER_SOURCE_NAME = "Event tester"
# The reporting webhook address of a destination ends in this many random bytes: unguessable, so
# an address cannot be found by trying; the signature is what proves a post came from Customer.io.
WEBHOOK_TOKEN_BYTES = 24


def generate_write_key() -> str:
    return secrets.token_urlsafe(WRITE_KEY_BYTES)


def generate_webhook_token() -> str:
    return secrets.token_urlsafe(WEBHOOK_TOKEN_BYTES)


class Source(models.Model):
    """An SDK or server that sends events, identified by its write key."""

    name = models.CharField(max_length=200, unique=True)
    write_key = EncryptedTextField(editable=False)
    # The ingestion API finds a source by this digest, then compares the key in constant time.
    write_key_digest = models.CharField(max_length=64, unique=True, editable=False)
    enabled = models.BooleanField(default=True)
    # Web origins (https://www.example.com) browsers may send this source's events from; empty: any.
    allowed_origins = models.JSONField(default=list, blank=True, validators=[validate_origin_list])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.write_key:
            self.rotate_write_key()
        super().save(*args, **kwargs)

    def rotate_write_key(self) -> str:
        """Give the source a new write key (saved with the next save())."""
        self.write_key = generate_write_key()
        self.write_key_digest = crypto.digest(self.write_key)
        return self.write_key


class Destination(models.Model):
    """A Customer.io workspace, configured with the settings RudderStack's dashboard has, and ours."""

    class DataCenter(models.TextChoices):
        US = "US", "US"
        EU = "EU", "EU"

    class EventFiltering(models.TextChoices):
        # Values are RudderStack's `eventFilteringOption` values, so configs round-trip unchanged.
        DISABLED = "disable", "Disabled"
        ALLOWLIST = "whitelistedEvents", "Allowlist"
        DENYLIST = "blacklistedEvents", "Denylist"

    class ApiVersion(models.TextChoices):
        V1 = "v1", "v1: one request per event"
        V2 = "v2", "v2: batched requests"

    name = models.CharField(max_length=200, unique=True)
    enabled = models.BooleanField(default=True)
    sources = models.ManyToManyField(Source, related_name="destinations", blank=True)

    # Connection settings
    site_id = models.CharField("Site ID", max_length=100, validators=[validate_site_id])
    api_key = EncryptedTextField("API key", validators=[validate_api_key])
    data_center = models.CharField(max_length=2, choices=DataCenter.choices, default=DataCenter.US)

    # Cloud mode
    device_token_event_name = models.CharField(
        "event sent after setting device token", max_length=100, blank=True
    )

    # Device mode: web SDK
    use_native_sdk = models.BooleanField("use device mode (native SDK) on web", default=False)
    send_page_name_in_sdk = models.BooleanField("send page name in SDK", default=True)
    enable_in_app_messages = models.BooleanField("enable in-app messages", default=False)

    # Device mode: mobile SDKs
    auto_track_device_attributes = models.BooleanField(default=True)
    android_background_queue_min_tasks = models.PositiveIntegerField(
        "Android background queue minimum number of tasks", default=10
    )
    android_background_queue_delay_seconds = models.PositiveIntegerField(
        "Android background queue delay (seconds)", default=30
    )

    # Other settings: event filtering and consent
    event_filtering = models.CharField(
        max_length=20, choices=EventFiltering.choices, default=EventFiltering.DISABLED
    )
    allowlisted_events = models.JSONField(default=list, blank=True, validators=[validate_name_list])
    denylisted_events = models.JSONField(default=list, blank=True, validators=[validate_name_list])
    onetrust_cookie_categories = models.JSONField(
        "OneTrust cookie categories", default=list, blank=True, validators=[validate_name_list]
    )
    ketch_consent_purposes = models.JSONField(default=list, blank=True, validators=[validate_name_list])

    # Ours: delivery
    strict_ordering = models.BooleanField("strict per-user ordering", default=True)
    api_version = models.CharField(
        "Track API version", max_length=2, choices=ApiVersion.choices, default=ApiVersion.V1
    )
    rate_limit_per_second = models.PositiveIntegerField(
        "requests per second limit",
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
    )
    retry_horizon = models.DurationField(default=timedelta(hours=3))

    # Ours: Customer.io's reporting webhooks (message activity), posted to /webhooks/customerio/<token>
    webhook_signing_key = EncryptedTextField(
        "reporting webhook signing key", blank=True, validators=[validate_webhook_signing_key]
    )
    webhook_token = models.CharField(max_length=64, unique=True, null=True, editable=False)

    # Ours: transformer options (off by default, so behaviour matches RudderStack's), except
    # de-duplication ids: on for a new destination, so an event whose answer was lost and which was sent
    # again is counted once by Customer.io (as Segment's Customer.io Actions does). A destination
    # imported from a RudderStack config keeps RudderStack's behaviour (rudderstack_config.from_config).
    convert_to_unix_time = models.BooleanField("convert dates to unix time", default=False)
    cio_identifiers = models.BooleanField("address people by cio_ identifiers", default=False)
    deduplication_ids = models.BooleanField("send de-duplication ids", default=True)
    check_limits = models.BooleanField("check Customer.io limits before sending", default=False)

    # Health, written by the delivery engine with QuerySet.update()
    credentials_rejected_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def webhook_path(self) -> str:
        """Where Customer.io posts this destination's reporting webhooks (delivery/webhooks/urls.py)."""
        return reverse("customerio-webhook", args=[self.webhook_token])

    def save(self, *args, **kwargs) -> None:
        if not self.webhook_token:
            self.rotate_webhook_token()
        super().save(*args, **kwargs)

    def rotate_webhook_token(self) -> str:
        """Give the destination a new reporting webhook address (saved with the next save())."""
        self.webhook_token = generate_webhook_token()
        return self.webhook_token
