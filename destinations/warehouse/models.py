"""A warehouse source, its sync runs, and the fingerprint of each row as the last successful run saw it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from destinations.fields import EncryptedTextField
from destinations.models import Source
from destinations.warehouse.connection import validate_connection_url

COLUMN_LENGTH = 200
SOURCE_PREFIX = "Warehouse: "


class WarehouseSource(models.Model):
    """A SQL query, read on a schedule; each new, changed or removed row becomes a record message."""

    class Identifier(models.TextChoices):
        ID = "id", "id"
        EMAIL = "email", "email"
        CIO_ID = "cio_id", "cio_id"

    class Kind(models.TextChoices):
        PERSON = "person", "a person (the other columns as attributes)"
        EVENT = "event", "an event (name, timestamp, the rest as data)"
        OBJECT = "object", "an object with relationships to people"

    class Mode(models.TextChoices):
        UPSERT = "upsert", "upsert: new and changed rows"
        MIRROR = "mirror", "mirror: also delete what disappeared from the query"

    name = models.CharField(max_length=200, unique=True)
    # Its events, deliveries and destinations are those of this source (disabled, so no write key
    # ever lets anything in through it): the delivery log filters a warehouse's rows by it.
    source = models.OneToOneField(Source, on_delete=models.PROTECT, related_name="warehouse", editable=False)
    enabled = models.BooleanField(default=True)
    connection_url = EncryptedTextField(
        "connection URL",
        validators=[validate_connection_url],
        help_text="postgresql://user:password@host:5432/db, mysql://… or mariadb://…, sqlite:///path.db, "
        "or any SQLAlchemy URL whose dialect is installed. Stored encrypted; never shown again.",
    )
    query = models.TextField("SQL query", help_text="Each row it returns is one person, event or object.")
    identifier_column = models.CharField(
        max_length=COLUMN_LENGTH,
        help_text="The column that says who a row is about (for an object: the object's id).",
    )
    identifier = models.CharField(
        "Customer.io identifier",
        max_length=6,
        choices=Identifier.choices,
        default=Identifier.ID,
        help_text="What the person column holds (for an object: what the related people's column holds).",
    )
    kind = models.CharField("each row becomes", max_length=6, choices=Kind.choices, default=Kind.PERSON)
    event_name_column = models.CharField(max_length=COLUMN_LENGTH, blank=True)
    event_name = models.CharField(
        "fixed event name", max_length=100, blank=True, help_text="When no column holds the name."
    )
    timestamp_column = models.CharField(max_length=COLUMN_LENGTH, blank=True)
    object_type_id = models.CharField("object type id", max_length=100, blank=True)
    relationships_column = models.CharField(
        "related people's column",
        max_length=COLUMN_LENGTH,
        blank=True,
        help_text="One person, or a comma-separated or JSON list of them.",
    )
    mode = models.CharField(max_length=6, choices=Mode.choices, default=Mode.UPSERT)
    every_minutes = models.PositiveIntegerField(
        "run every (minutes)",
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def source_name(self) -> str:
        """The name of its source, under which the delivery log lists its rows."""
        return f"{SOURCE_PREFIX}{self.name}"

    def clean(self) -> None:
        errors = {}
        if self.kind == self.Kind.EVENT and not (self.event_name_column or self.event_name):
            errors["event_name"] = "An event needs a fixed name or a column that holds it."
        if self.kind == self.Kind.OBJECT and not self.object_type_id:
            errors["object_type_id"] = "An object needs its object type id (Customer.io > Data > Objects)."
        if self.kind == self.Kind.EVENT and self.mode == self.Mode.MIRROR:
            errors["mode"] = "Events are never deleted: mirror mode is for people and objects."
        taken = Source.objects.filter(name=self.source_name)
        if self.source_id:
            taken = taken.exclude(pk=self.source_id)
        if self.name and taken.exists():
            errors["name"] = f"A source named {self.source_name!r} exists already."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        # Disabled: the ingestion API refuses its write key, so the warehouse is its only way in.
        if not self.source_id:
            self.source = Source.objects.create(name=self.source_name, enabled=False)
        elif self.source.name != self.source_name:
            Source.objects.filter(pk=self.source_id).update(name=self.source_name)
        super().save(*args, **kwargs)


class SyncRunQuerySet(models.QuerySet):
    def alive(self, now: datetime) -> SyncRunQuerySet:
        """Runs still running whose heartbeat is fresh: their process is alive (see heartbeat.py)."""
        return self.filter(state=SyncRun.State.RUNNING, heartbeat_at__gte=_alive_since(now))

    def dead(self, now: datetime) -> SyncRunQuerySet:
        """Runs still marked running whose heartbeat stopped: their process was killed or lost."""
        return self.filter(state=SyncRun.State.RUNNING, heartbeat_at__lt=_alive_since(now))


def _alive_since(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.WAREHOUSE_RUN_STALE_SECONDS)


class SyncRun(models.Model):
    """One reading of a source's query: its counts, its progress while it runs, and why it failed."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    warehouse_source = models.ForeignKey(WarehouseSource, on_delete=models.CASCADE, related_name="runs")
    dry_run = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField()
    # Written after every chunk: a running run whose heartbeat stopped was killed.
    heartbeat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveBigIntegerField(null=True, blank=True)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_new = models.PositiveBigIntegerField("new", default=0)
    rows_changed = models.PositiveBigIntegerField("changed", default=0)
    rows_removed = models.PositiveBigIntegerField("removed", default=0)
    rows_unchanged = models.PositiveBigIntegerField("unchanged", default=0)
    rows_failed = models.PositiveBigIntegerField("failed", default=0)
    events_stored = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    # The first failed rows ({"row", "identifier", "reason"}) and, for a dry run, sample requests.
    failures = models.JSONField(default=list, blank=True)
    samples = models.JSONField(default=list, blank=True)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One run at a time per source, whichever worker or terminal starts it.
            models.UniqueConstraint(
                fields=["warehouse_source"],
                condition=Q(state="running"),
                name="warehouse_one_running_run_per_source",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.warehouse_source_id} ({self.state})"


class RowFingerprint(models.Model):
    """A row's mapped content as the last run that stored it saw it, by the row's key.

    The key is the identifier (a person), the object id (an object), or the digest of the whole row
    (an event, which has no identity of its own). `version` counts the changes stored, so every
    change gets a messageId of its own while a resumed run re-storing the same change gets the same
    one. An empty fingerprint is a row mirror mode deleted.
    """

    warehouse_source = models.ForeignKey(WarehouseSource, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=32, blank=True)
    version = models.PositiveIntegerField(default=0)
    # The last run that read the row (mirror mode only): rows no finished run read were removed.
    seen_run = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["warehouse_source", "key"], name="warehouse_fingerprint_key"),
        ]
