"""The admin's forms: a source's allowed origins, and the destination form with RudderStack's settings in
RudderStack's groups, then ours.

The API key and the reporting webhook signing key are write-only: the form never holds them as initial
values, their inputs never render a value, and an empty input on an existing destination keeps the
stored key.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from destinations.crypto import UnreadableSecret
from destinations.models import TESTER_SOURCE_NAME, Destination, Source
from destinations.validators import (
    normalize_origin,
    validate_api_key,
    validate_name_list,
    validate_origin_list,
    validate_webhook_signing_key,
)

CREDENTIALS_PAGE = "Settings > Workspace Settings > API and Webhook Credentials"

HELP_TEXTS = {
    "name": "A name for this destination, shown in the admin and the delivery log. An event's "
    'integrations object may also name it ({"My destination": false}).',
    "enabled": "Untick to stop delivering: new events get no delivery for this destination, and "
    "pending ones are recorded as filtered.",
    "sources": "The sources whose events go to this destination.",
    "site_id": f"Your Customer.io workspace's Site ID. In Customer.io, open {CREDENTIALS_PAGE}; "
    "the Track API keys tab lists each Site ID with its API key.",
    "data_center": "The region your Customer.io account is in: EU accounts send to "
    "track-eu.customer.io, US accounts to track.customer.io. Customer.io shows it under "
    "Settings > Workspace Settings > Privacy; Test credentials asks Customer.io for it.",
    "device_token_event_name": "The name of the track event your app sends after it sets a device "
    "token. Such events register the token with Customer.io (context.device.token) instead of being "
    "sent as events. Leave empty for none.",
    "use_native_sdk": "Web: load Customer.io's own JavaScript snippet in the browser and send from it "
    "(device mode) instead of through the server.",
    "send_page_name_in_sdk": "Web, device mode: send the page name with page calls made through "
    "Customer.io's JavaScript snippet.",
    "enable_in_app_messages": "Web, device mode: let Customer.io's JavaScript snippet show in-app "
    "messages on your site.",
    "auto_track_device_attributes": "Mobile, device mode: let Customer.io's mobile SDK collect device "
    "attributes (model, OS version, locale, app version) on its own.",
    "android_background_queue_min_tasks": "Android, device mode: how many tasks Customer.io's Android "
    "SDK queues before it sends them in the background.",
    "android_background_queue_delay_seconds": "Android, device mode: how many seconds Customer.io's "
    "Android SDK waits before it sends queued tasks in the background.",
    "event_filtering": "Which track events to send. Allowlist: only the events listed below "
    "(an empty allowlist sends none). Denylist: every event except those listed. Only track events "
    "are filtered; identify, page, screen, group and alias always go.",
    "allowlisted_events": "With Allowlist: the track event names to send, one per line, matched "
    "exactly (case-sensitive).",
    "denylisted_events": "With Denylist: the track event names never to send, one per line, matched "
    "exactly (case-sensitive).",
    "onetrust_cookie_categories": "OneTrust cookie category ids, one per line (for example C0004). An "
    "event is not sent when any of these is among the event's denied consent ids "
    "(context.consentManagement.deniedConsentIds).",
    "ketch_consent_purposes": "Ketch purpose codes, one per line (for example analytics). An event is "
    "not sent when every one of these is among the event's denied consent ids.",
    "strict_ordering": "Deliver each person's events in the order they were received: while one "
    "waits for a retry, that person's later events wait behind it. Other people's events flow around "
    "it. Turn off only if order does not matter to you.",
    "api_version": "v1 sends one request per event, as RudderStack does. v2 sends everything through "
    "Customer.io's /api/v2/batch endpoint, up to 1,000 items and 500 KB per request.",
    "rate_limit_per_second": "The most requests per second sent to Customer.io for this destination, "
    "shared by every worker. Customer.io asks for at most 100 per second per workspace.",
    "retry_horizon": "How long to keep retrying a delivery that failed for a reason that can pass "
    "(timeouts, 429, 5xx), as hours:minutes:seconds, for example 3:00:00. At least 3 attempts are "
    "made whatever the horizon.",
    "convert_to_unix_time": "Send ISO 8601 dates in traits and properties as Unix timestamps "
    "(seconds), so Customer.io can use them as dates in segments and campaigns.",
    "cio_identifiers": "Treat a userId of the form cio_XXXX as Customer.io's own cio_id, and an "
    "email-shaped userId as the person's email, when addressing people.",
    "deduplication_ids": "Give each event (track, page, screen, an event row) a de-duplication id "
    "derived from its messageId, so Customer.io counts a retried or replayed event once. On for new "
    "destinations; identify, device and object calls need none, since repeating them changes nothing.",
    "check_limits": "Check Customer.io's limits (100-byte event names, 150-byte ids, attribute sizes) "
    "before sending, and fail an event that breaks them with the reason, instead of sending it.",
}

API_KEY_HELP = (
    f"The Tracking API key that goes with the Site ID (same page in Customer.io: {CREDENTIALS_PAGE}). "
    "Stored encrypted and never shown again."
)


SIGNING_KEY_HELP = (
    "The signing key of the reporting webhook you add in Customer.io (Data & Integrations > "
    "Integrations > Reporting Webhooks), with the address below as its endpoint. Posts to that address "
    "are stored only when signed with this key. Stored encrypted and never shown again."
)


def secret_input() -> forms.CharField:
    # render_value=False: a stored secret never goes back to the browser, not even after an error.
    return forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class NameListField(forms.CharField):
    """A JSON list of names, edited as one name per line; blank lines are ignored."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "cols": 40}))
        super().__init__(required=False, strip=False, validators=[validate_name_list], **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(str(name) for name in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list):
            return value
        text = super().to_python(value)
        return [line.strip() for line in text.splitlines() if line.strip()]

    def run_validators(self, value: Any) -> None:
        # CharField skips validators for "empty" values, but an empty list is a valid, checked list.
        for validator in self.validators:
            validator(value)


ALLOWED_ORIGINS_HELP = (
    "The websites that may send this source's events from a browser, one origin per line "
    "(https://www.example.com, with a port when it is not the default). A browser request from any other "
    "origin is refused with 403 and nothing is stored. Leave empty to accept every origin, as RudderStack "
    "and Segment do. Servers and mobile apps send no origin and are not affected."
)


class OriginListField(NameListField):
    """Web origins, one per line, kept as browsers send them in the Origin header."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [validate_origin_list]

    def clean(self, value: Any) -> list[str]:
        origins = super().clean(value)
        return [normalize_origin(origin) for origin in origins]


class SourceForm(forms.ModelForm):
    allowed_origins = OriginListField(label="Allowed origins", help_text=ALLOWED_ORIGINS_HELP)

    class Meta:
        model = Source
        fields = ["name", "enabled", "allowed_origins"]


def offered_sources(destination: Destination) -> QuerySet[Source]:
    """The sources a destination may be connected to: all but the event tester's, which stores only
    test events and sends each to the one destination chosen in the tester, whatever it feeds. A
    destination already connected to it keeps it, so its form still saves."""
    offered = ~Q(name=TESTER_SOURCE_NAME)
    if destination.pk:
        offered |= Q(pk__in=destination.sources.values("pk"))
    # only(): the picker shows names; no write key is decrypted for it.
    return Source.objects.filter(offered).only("id", "name")


class DestinationForm(forms.ModelForm):
    api_key = secret_input()
    webhook_signing_key = secret_input()
    allowlisted_events = NameListField(label="Allowlisted events", help_text=HELP_TEXTS["allowlisted_events"])
    denylisted_events = NameListField(label="Denylisted events", help_text=HELP_TEXTS["denylisted_events"])
    onetrust_cookie_categories = NameListField(
        label="OneTrust cookie categories", help_text=HELP_TEXTS["onetrust_cookie_categories"]
    )
    ketch_consent_purposes = NameListField(
        label="Ketch consent purposes", help_text=HELP_TEXTS["ketch_consent_purposes"]
    )

    class Meta:
        model = Destination
        fields = "__all__"
        help_texts = HELP_TEXTS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "sources" in self.fields:  # not there for a person who may only view
            self.fields["sources"].queryset = offered_sources(self.instance)
        self.stored_api_key = self.instance.api_key if self.instance.pk else ""
        # Without an initial value, an empty input counts as unchanged, and the key is not in the form.
        self.initial["api_key"] = ""
        field = self.fields["api_key"]
        field.required = not self.stored_api_key
        field.help_text = f"{secret_state(self.stored_api_key)}. {API_KEY_HELP}"
        if self.stored_api_key:
            field.help_text += " Leave empty to keep it; enter a new key to replace it."
        field.label = "API key"
        self.stored_signing_key = self.instance.webhook_signing_key if self.instance.pk else ""
        self.initial["webhook_signing_key"] = ""
        signing = self.fields["webhook_signing_key"]
        signing.label = "Reporting webhook signing key"
        signing.help_text = f"{secret_state(self.stored_signing_key)}. {SIGNING_KEY_HELP}"
        if self.stored_signing_key:
            signing.help_text += " Leave empty to keep it; enter a new key to replace it."

    def clean_api_key(self) -> str:
        value = self.cleaned_data["api_key"].strip()
        if not value:
            return self.stored_api_key
        validate_api_key(value)
        return value

    def clean_webhook_signing_key(self) -> str:
        value = self.cleaned_data["webhook_signing_key"].strip()
        if not value:
            return self.stored_signing_key
        validate_webhook_signing_key(value)
        return value

    def clean_retry_horizon(self) -> timedelta:
        horizon = self.cleaned_data["retry_horizon"]
        if horizon is not None and horizon <= timedelta(0):
            raise forms.ValidationError("The retry horizon must be longer than zero, for example 3:00:00.")
        return horizon


def secret_state(secret: str, reveal_end: bool = True) -> str:
    """What the admin may know about a stored secret: whether it is set, and (to a person who may
    change it, so they can tell which key it is) its last 4 characters."""
    if isinstance(secret, UnreadableSecret):
        return (
            "Set, but it cannot be decrypted with this installation's SECRETS_ENCRYPTION_KEY "
            "(or SECRET_KEY): enter it again"
        )
    if not secret:
        return "Not set"
    return f"Set, ending in …{secret[-4:]}" if reveal_end else "Set"
