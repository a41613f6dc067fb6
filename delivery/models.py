"""Stored events, one delivery per (event, destination), each request sent, and each delivery's attempts.

The database is the truth (DESIGN.md invariant 2): a delivery's status, next_attempt_at and claim
say everything about where it is; Celery messages only say "look again".
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from destinations.models import Destination, Source
from destinations.track_api.answers import Outcome

# On PostgreSQL, a LIKE 'prefix%' (the log's prefix search) can read a btree index only when the index
# compares bytes: a "C" collation database does by default, any other needs this operator class. It
# serves equality too, so the log's indexes that a prefix search reads use it instead of the default.
PREFIX_OPCLASS = "varchar_pattern_ops"


def normal_email(address: str) -> str:
    """An email address as stored and searched: lowercased, so "Kim@Example.com" finds kim@example.com."""
    return address.strip().lower()


class Event(models.Model):
    """One message as accepted by the ingestion API, with fields filled in as the hosted services do."""

    # A top-level key of the payload that belongs to this server (never sent to Customer.io):
    # "requestId", the id of the HTTP request that brought the event (cio_project/request_id.py), and for
    # events sent to /v1/import/..., "import": true, so the log tells historical events from live ones.
    RELAY_KEY = "cioRelay"

    # Indexed by the (source, -id) index below, and by the unique (source, message_id): both lead with it.
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="events", db_index=False)
    message_id = models.CharField(max_length=255)
    type = models.CharField(max_length=16)
    user_id = models.CharField(max_length=255, blank=True, db_index=True)
    anonymous_id = models.CharField(max_length=255, blank=True, db_index=True)
    # Lowercased (normal_email): a search is case-insensitive and still an indexed equality.
    email = models.CharField(max_length=255, blank=True, db_index=True)
    # The track event name, or the page/screen name: what a person searches the log for.
    event_name = models.CharField(max_length=255, blank=True, db_index=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(db_index=True)
    # Repeats of this messageId from the same source, answered 200 and not stored again.
    duplicates_dropped = models.PositiveIntegerField(default=0)
    last_duplicate_at = models.DateTimeField(null=True, blank=True)

    @property
    def request_id(self) -> str:
        """The id of the HTTP request that stored it, "" when unknown (stored before ids existed)."""
        relay = self.payload.get(self.RELAY_KEY) if isinstance(self.payload, dict) else None
        found = relay.get("requestId") if isinstance(relay, dict) else None
        return found if isinstance(found, str) else ""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "message_id"], name="event_unique_message_per_source"),
        ]
        indexes = [
            # By messageId, exactly or by prefix (the log's search).
            models.Index(fields=["message_id"], opclasses=[PREFIX_OPCLASS], name="event_message_id_prefix"),
            # A source's live events, newest first, and its last event received: a short backward range
            # read of this index, however many events the source or the table holds.
            models.Index(fields=["source", "-id"], name="event_source_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.message_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        DELIVERED = "delivered", "Delivered"
        FILTERED = "filtered", "Filtered"
        FAILED = "failed", "Failed"

    TERMINAL = (Status.DELIVERED, Status.FILTERED, Status.FAILED)
    OPEN = (Status.PENDING, Status.RETRYING)

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # Indexed by the (destination, id) and (source, id) indexes below, which lead with the key; a
    # single-column index of its own would be one more to write on every ingested event.
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # Copied from the event so the log lists, filters and orders without joins.
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="deliveries", db_index=False)
    message_type = models.CharField(max_length=16)
    event_name = models.CharField(max_length=255, blank=True)
    # userId, else anonymousId: the person whose deliveries keep their order (invariant 4).
    person = models.CharField(max_length=255, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    # How many times it was sent, across every run (the first, and each replay), and when first.
    attempt_count = models.PositiveIntegerField("attempts", default=0)
    first_attempt_at = models.DateTimeField(null=True, blank=True)
    # The same for the current run only, which a replay starts again: the retry horizon counts these.
    # db_default, so rows written by plain SQL (bulk loads) start a run too.
    run_attempt_count = models.PositiveIntegerField(default=0, db_default=0)
    run_first_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # Why it was filtered or failed, in words a person understands.
    reason = models.TextField(blank=True)
    # The request(s) the transformer made for this delivery, Authorization redacted.
    requests = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set by delivery/engine/replay.py: a person sent this delivery again.
    replayed_at = models.DateTimeField(null=True, blank=True)
    replay_count = models.PositiveIntegerField(default=0)
    # Each replay, oldest first: {"at": ISO time, "by": user name}, so a delivery's page can place it
    # among the attempts.
    replays = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            # The claim query: a destination's open deliveries in id (received) order.
            models.Index(
                fields=["destination", "id"],
                name="delivery_open_by_id",
                condition=Q(status__in=["pending", "retrying"]),
            ),
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(status__in=["pending", "retrying"]),
            ),
            models.Index(
                fields=["destination", "person", "id"],
                name="delivery_open_per_person",
                condition=Q(status__in=["pending", "retrying"]),
            ),
            models.Index(fields=["destination", "created_at"], name="delivery_dest_created"),
            models.Index(fields=["status", "created_at"], name="delivery_status_created"),
            models.Index(fields=["created_at"], name="delivery_created"),
            # The admin's log reads newest first (ORDER BY id DESC) under each filter and search: a
            # (column, id) index makes a filtered page a short backward range read, not a sort.
            models.Index(fields=["status", "-id"], name="delivery_log_status"),
            models.Index(fields=["destination", "-id"], name="delivery_log_destination"),
            models.Index(fields=["source", "-id"], name="delivery_log_source"),
            models.Index(fields=["message_type", "-id"], name="delivery_log_message_type"),
            # Event name and person are searched by prefix too (PREFIX_OPCLASS).
            models.Index(
                fields=["event_name", "-id"],
                opclasses=[PREFIX_OPCLASS, "int8_ops"],
                name="delivery_log_event_name_prefix",
            ),
            # A person's deliveries, and the neighbours shown on a delivery's page.
            models.Index(
                fields=["person", "destination", "-id"],
                opclasses=[PREFIX_OPCLASS, "int8_ops", "int8_ops"],
                name="delivery_log_person_prefix",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.status})"


class SentRequest(models.Model):
    """One HTTP request sent to Customer.io, carrying one or more deliveries (a batch), and its answer."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="sent_requests")
    deliveries = models.ManyToManyField(Delivery, through="DeliveryAttempt", related_name="sent_requests")
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    method = models.CharField(max_length=8)
    url = models.TextField()
    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.method} {self.url} -> {self.status_code or self.error}"


class DeliveryAttempt(models.Model):
    """One attempt of one delivery: what a sent request meant for it (a 207 can fail some items of a
    batch and not others)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    sent_request = models.ForeignKey(SentRequest, on_delete=models.CASCADE, related_name="delivery_attempts")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "sent_request"], name="delivery_attempt_unique"),
        ]


class RateLimitState(models.Model):
    """The next free request slot of a destination, for the rate limiter when there is no Redis."""

    destination = models.OneToOneField(
        Destination, on_delete=models.CASCADE, primary_key=True, related_name="rate_limit_state"
    )
    # Seconds since the epoch (time.time()), as the limiter computes with it.
    next_slot_at = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"rate limit state of destination {self.destination_id}"


class MessageActivity(models.Model):
    """One event of Customer.io's reporting webhooks: what became of a message Customer.io sent a person
    (sent, delivered, opened, bounced...), as posted to the destination's webhook address."""

    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="message_activity", db_index=False
    )
    # Customer.io's id of this webhook event: a retried post carries the same one and is stored once.
    event_id = models.CharField(max_length=255)
    # The channel: email, push, sms, in_app, slack, webhook, or customer for subscription changes.
    object_type = models.CharField("channel", max_length=32)
    metric = models.CharField(max_length=64)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    # The person, as Customer.io names them: customer_id is the id the relay sends (userId).
    customer_id = models.CharField(max_length=255, blank=True)
    cio_id = models.CharField(max_length=255, blank=True)
    # Lowercased (normal_email), as events' are, so a person's page matches them whatever the case.
    email = models.CharField(max_length=255, blank=True)
    # The address the message went to: an email address, a phone number, a device token...
    recipient = models.CharField(max_length=255, blank=True)
    # Customer.io's id of the message it delivered (one per person and message), not one of ours.
    cio_delivery_id = models.CharField("Customer.io delivery id", max_length=255, blank=True)
    campaign_id = models.CharField(max_length=32, blank=True)
    action_id = models.CharField(max_length=32, blank=True)
    broadcast_id = models.CharField(max_length=32, blank=True)
    newsletter_id = models.CharField(max_length=32, blank=True)
    transactional_message_id = models.CharField(max_length=32, blank=True)
    # The campaign's, broadcast's... name when the body has one, else the subject: what a person reads.
    message_name = models.CharField(max_length=255, blank=True)
    # Why it failed, was dropped or bounced, in Customer.io's words; the clicked link for clicks.
    reason = models.TextField(blank=True)
    raw_body = models.TextField()

    class Meta:
        verbose_name_plural = "message activity"
        constraints = [
            models.UniqueConstraint(fields=["destination", "event_id"], name="message_activity_unique_event"),
        ]
        indexes = [
            # A person's timeline: each identifier is an indexed equality, newest first.
            models.Index(fields=["customer_id", "-occurred_at"], name="message_activity_customer"),
            models.Index(fields=["email", "-occurred_at"], name="message_activity_email"),
            models.Index(fields=["cio_id", "-occurred_at"], name="message_activity_cio_id"),
            # The dashboard's counts by channel and metric: on PostgreSQL an index-only scan of a
            # destination's last 7 days (SQLite has no INCLUDE and reads the rows).
            models.Index(
                fields=["destination", "occurred_at"],
                include=["object_type", "metric"],
                name="message_activity_dest_time",
            ),
            # Retention.
            models.Index(fields=["received_at"], name="message_activity_received"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.metric} {self.event_id}"


class RefusalCount(models.Model):
    """How many ingestion requests were refused in one hour, for one source and one reason.

    `source` is None for requests that name no source: a missing or unknown write key (the key offered
    is never stored), or a body refused before the key in it could be read. One row per (source, hour,
    status, code), counted up as refusals come (delivery/ingestion/refused_requests.py).
    """

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, related_name="refusal_counts", db_index=False
    )
    hour = models.DateTimeField()
    status = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            # NULLs are distinct in a unique index: the unknown source has a partial index of its own.
            models.UniqueConstraint(
                fields=["source", "hour", "status", "code"],
                condition=Q(source__isnull=False),
                name="refusal_count_unique",
            ),
            models.UniqueConstraint(
                fields=["hour", "status", "code"],
                condition=Q(source__isnull=True),
                name="refusal_count_unique_unknown",
            ),
        ]
        # Retention.
        indexes = [models.Index(fields=["hour"], name="refusal_count_hour")]

    def __str__(self) -> str:
        return f"{self.count} x {self.status} {self.code} at {self.hour:%Y-%m-%d %H:00}"


class RefusedRequest(models.Model):
    """One refused ingestion request, kept as an example of its reason: the newest few per source and
    reason are kept (delivery/ingestion/refused_requests.py), so a flood cannot fill the database.

    Never a write key: not the Authorization header, not the query string, and a `writeKey` in the
    body is redacted from the cut body.
    """

    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, related_name="refused_requests", db_index=False
    )
    received_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=64)
    # The message the client was answered with, naming the field (batch[3].event: ...).
    message = models.TextField()
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    client_address = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    # The body as received (decompressed), cut to refused_requests.BODY_LIMIT characters, writeKey
    # redacted; `body_bytes` is the size of the whole body as received (None: it was not read).
    body = models.TextField(blank=True)
    body_bytes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # Trimming a source's reason to its newest examples, and listing a source's examples.
            models.Index(fields=["source", "code", "-id"], name="refused_request_source_code"),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.code} at {self.received_at:%Y-%m-%d %H:%M:%S}"
