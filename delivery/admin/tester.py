"""The event tester: paste an event or pick a stored one, choose a destination, see what would be sent.

Preview sends nothing. "Send for real" stores the event through the ingestion path (sending.py) and
opens the delivery it made.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.views import View

from cio_project import admin_history
from delivery.admin import access, links
from delivery.admin.preview import Preview, pretty, preview
from delivery.admin.send_for_real import TESTER_SOURCE_NAME, Sent, as_ingested, send_for_real
from delivery.ingestion.refusals import IngestError
from delivery.models import Delivery, Event
from destinations.models import Destination

# Ids are bigint: a longer number is a messageId, never an id the database could be asked for.
MAX_ID = 2**63 - 1
# "delivery 306", "event 12" (also "delivery #306", "event:12"): a number said to be one kind of id.
NAMED_ID = re.compile(r"(delivery|event)\s*[#:]?\s*(\d+)", re.IGNORECASE)
# A messageId sent by more sources than this is listed as "one of" the newest few.
MESSAGE_ID_MATCHES = 5
JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false"}


class DestinationChoice(forms.ModelChoiceField):
    def label_from_instance(self, destination: Destination) -> str:
        state = "" if destination.enabled else ", disabled"
        return f"{destination.name} ({destination.data_center}, {destination.api_version}{state})"


class EventTesterForm(forms.Form):
    destination = DestinationChoice(queryset=Destination.objects.order_by("name"))
    event = forms.CharField(
        label="Event JSON",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14, "cols": 80, "class": "vLargeTextField relay-code"}),
        help_text=(
            "One event as an SDK sends it, e.g. "
            '{"type": "track", "userId": "ann", "event": "Order Completed", "properties": {"total": 20}}. '
            "It is checked and filled in (messageId, receivedAt, timestamp) as the ingestion API does."
        ),
    )
    stored_event = forms.CharField(
        label="Or a stored event",
        required=False,
        max_length=Event._meta.get_field("message_id").max_length,
        help_text=(
            "What the delivery log shows: a delivery id (the number in its first column), or the event's "
            'messageId; or a stored event\'s id, written "event 12". It is previewed as stored.'
        ),
    )

    def clean_event(self) -> dict[str, Any] | None:
        text = self.cleaned_data["event"].strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"This is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
            ) from None
        except RecursionError:
            raise forms.ValidationError("This JSON is nested too deeply to read.") from None
        if not isinstance(value, dict):
            kind = "null" if value is None else JSON_KINDS.get(type(value), "not an object")
            raise forms.ValidationError(f"An event must be a JSON object ({{...}}); this is {kind}.")
        return value

    def clean_stored_event(self) -> StoredEvent | None:
        value = self.cleaned_data["stored_event"].strip()
        return find_stored_event(value) if value else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        pasted, stored = cleaned.get("event"), cleaned.get("stored_event")
        if self.has_error("event") or self.has_error("stored_event"):
            return cleaned
        if pasted is None and stored is None:
            self.add_error("event", "Paste an event here, or give a stored event's id or messageId below.")
        elif pasted is not None and stored is not None:
            self.add_error(
                "stored_event", "Give a pasted event or a stored event, not both: clear one of them."
            )
        elif pasted is not None:
            try:
                cleaned["message"] = as_ingested(pasted)
            except IngestError as error:
                self.add_error("event", f"The ingestion API would refuse this event: {error.message}")
        else:
            cleaned["message"] = stored.event.payload
        return cleaned

    def raw_event(self) -> tuple[str, dict[str, Any]]:
        """The field the event came from, and the event as given (a stored one as it was stored)."""
        stored = self.cleaned_data["stored_event"]
        return ("stored_event", stored.event.payload) if stored else ("event", self.cleaned_data["event"])


@dataclass(frozen=True)
class StoredEvent:
    event: Event
    named_as: str  # how the value given was read: "delivery 306 (event 12)", "messageId m-1 (event 12)"


def find_stored_event(value: str) -> StoredEvent:
    """The stored event that `value` names, first of: a delivery id (the log's first column), an event id,
    a messageId. "delivery N" or "event N" says which a number is; the page says how it was read."""
    named = NAMED_ID.fullmatch(value)
    kind, number = (named[1].lower(), named[2]) if named else (None, value)
    if number.isdigit() and int(number) <= MAX_ID:
        if kind in (None, "delivery"):
            delivery = Delivery.objects.filter(pk=int(number)).select_related("event").first()
            if delivery is not None:
                return StoredEvent(delivery.event, f"delivery {number} (event {delivery.event_id})")
        if kind in (None, "event"):
            event = Event.objects.filter(pk=int(number)).first()
            if event is not None:
                return StoredEvent(event, f"event {number}")
    sent = Event.objects.filter(message_id=value).order_by("-id")
    matches = [] if kind else list(sent[:MESSAGE_ID_MATCHES])
    if len(matches) > 1:
        ids = ", ".join(str(event.pk) for event in matches)
        raise forms.ValidationError(
            f'Several sources sent messageId "{value}": give the event id instead (one of {ids}).'
        )
    if not matches:
        raise forms.ValidationError(
            f'No delivery, stored event or messageId is "{value}" (a delivery id is the number in the '
            "log's first column; delivered events are kept for the retention period)."
        )
    return StoredEvent(matches[0], f"messageId {value} (event {matches[0].pk})")


class EventTesterView(View):
    site: admin.AdminSite | None = None
    template_name = "admin/tools/event_tester.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.can_view(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        """`?event=<id or messageId>[&destination=<id>]`, as the delivery log links here."""
        query = request.GET
        if query.get("event") and query.get("destination"):
            form = EventTesterForm({"stored_event": query["event"], "destination": query["destination"]})
            return self._preview(request, form)
        initial = {"stored_event": query.get("event", ""), "destination": query.get("destination")}
        return self._render(request, EventTesterForm(initial=initial))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = EventTesterForm(request.POST)
        if "_send" not in request.POST:
            return self._preview(request, form)
        if not access.can_send(request.user):
            raise PermissionDenied
        if not form.is_valid():
            return self._render(request, form)
        field, raw = form.raw_event()
        try:
            sent = send_for_real(raw, form.cleaned_data["destination"])
        except IngestError as error:
            form.add_error(field, f"The ingestion API would refuse this event: {error.message}")
            return self._render(request, form)
        message = _sent_message(sent, form.cleaned_data["destination"])
        admin_history.record(request, sent.delivery, f"Made by the event tester's Send for real. {message}")
        messages.success(request, message)
        return HttpResponseRedirect(links.delivery_url(sent.delivery.pk))

    def _preview(self, request: HttpRequest, form: EventTesterForm) -> HttpResponse:
        if not form.is_valid():
            return self._render(request, form)
        message = form.cleaned_data["message"]
        result = preview(message, form.cleaned_data["destination"])
        return self._render(request, form, result, pretty(message))

    def _render(
        self, request: HttpRequest, form: EventTesterForm, result: Preview | None = None, message: str = ""
    ) -> HttpResponse:
        context = {
            **self.site.each_context(request),
            "title": "Event tester",
            "form": form,
            "preview": result,
            "message": message,
            "can_send": access.can_send(request.user),
            "tester_source": TESTER_SOURCE_NAME,
            "stored": form.cleaned_data.get("stored_event") if result is not None else None,
        }
        return TemplateResponse(request, self.template_name, context)


def _sent_message(sent: Sent, destination: Destination) -> str:
    event = sent.delivery.event
    text = (
        f"Sent for real: event {event.pk} (messageId {event.message_id}) is stored from the source "
        f'"{TESTER_SOURCE_NAME}" with one delivery, to {destination.name}.'
    )
    if sent.renamed:
        text += " Its messageId had been stored by an earlier test, so the event got a new one."
    return text
