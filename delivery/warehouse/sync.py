"""One sync run of a warehouse source: read the query, keep what changed, store it chunk by chunk.

Each chunk's record messages, its rows' fingerprints and the run's counters are committed in one
transaction, so a run killed anywhere resumes (the next run) without storing a row twice: a chunk is
either wholly in (its rows now read as unchanged) or wholly out. That transaction also checks that the
run is still running, so a run taken for dead and taken over (heartbeat.py) stores nothing more. The
messageIds are stable per change (mapping.message_id) as a second net: were a change stored again, the
store would drop it as a duplicate. A query the database refuses fails the run before anything is stored
(one that fails part-way, a timeout say, keeps the chunks committed before it, which the next run finds
unchanged); a bad row fails alone, and mirror mode keeps what it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cio_project import metrics
from delivery.ingestion.enrich import Arrival
from delivery.ingestion.refusals import IngestError
from delivery.ingestion.sources import DestinationRef, SourceRef
from delivery.ingestion.store import store
from delivery.ingestion.views import prepare
from delivery.warehouse import fingerprints, heartbeat
from delivery.warehouse.samples import sample_requests
from destinations.models import Destination
from destinations.warehouse import mapping
from destinations.warehouse.connection import WarehouseError, open_warehouse
from destinations.warehouse.models import RowFingerprint, SyncRun, WarehouseSource

MAX_FAILURES_KEPT = 100
MAX_SAMPLES = 5
REPEATED = "the query returned this row's identifier more than once"
COUNTERS = ("rows_read", "rows_new", "rows_changed", "rows_removed", "rows_unchanged", "rows_failed")


class AlreadyRunning(Exception):
    """Another run of this source is under way (one run at a time per source)."""


class Interrupted(Exception):
    """The run is no longer running: taken for dead, it was marked interrupted and another took over."""


@dataclass
class Chunk:
    """What one chunk of rows comes to: the messages to store and the fingerprints to keep."""

    messages: list[dict] = field(default_factory=list)
    fingerprints: list[tuple[str, str, int, int]] = field(default_factory=list)  # fingerprints.save's rows
    # Stored keys that stay as they are, unchanged or failed (mirror mode marks them read, not removed).
    seen: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    failures: list[dict] = field(default_factory=list)


Progress = Callable[[SyncRun], None]


def sync(source: WarehouseSource, *, dry_run: bool = False, progress: Progress | None = None) -> SyncRun:
    """Run a sync to the end and return its run (state succeeded or failed); raises AlreadyRunning."""
    run = start_run(source, dry_run)
    try:
        with heartbeat.beating(run.pk):
            _read_and_store(source, run, progress or (lambda run: None))
    except Interrupted:
        _finish(run, SyncRun.State.FAILED, "")
    except WarehouseError as error:
        _finish(run, SyncRun.State.FAILED, str(error))
    except Exception as error:
        _finish(run, SyncRun.State.FAILED, f"{type(error).__name__} (see the log of the process that ran it)")
        raise
    else:
        _finish(run, SyncRun.State.SUCCEEDED, "")
    return run


def start_run(source: WarehouseSource, dry_run: bool) -> SyncRun:
    """A new running run, once any run whose heartbeat stopped is marked failed."""
    now = timezone.now()
    SyncRun.objects.dead(now).filter(warehouse_source=source).update(
        state=SyncRun.State.FAILED,
        finished_at=now,
        error="interrupted: its process stopped (killed or lost) before it finished",
    )
    try:
        with transaction.atomic():
            return SyncRun.objects.create(
                warehouse_source=source, dry_run=dry_run, started_at=now, heartbeat_at=now
            )
    except IntegrityError:
        raise AlreadyRunning(f"warehouse source {source.name!r} is already syncing") from None


def _read_and_store(source: WarehouseSource, run: SyncRun, progress: Progress) -> None:
    reference = source_reference(source)
    with open_warehouse(source.connection_url) as warehouse:
        run.rows_total = warehouse.count(source.query)
        SyncRun.objects.filter(pk=run.pk).update(rows_total=run.rows_total)
        progress(run)
        kept = 0
        for number, rows in enumerate(warehouse.rows(source.query, settings.WAREHOUSE_CHUNK_ROWS)):
            if number == 0:
                check_columns(source, rows[0])
            chunk = diff(source, run, rows)
            kept += len(chunk.seen)
            if run.dry_run:
                _keep_samples(run, reference, chunk.messages)
                _count(run, chunk)
            else:
                _commit(run, reference, chunk)
            progress(run)
    if source.mode == WarehouseSource.Mode.MIRROR and source.kind != WarehouseSource.Kind.EVENT:
        _remove_missing(source, run, reference, progress, kept)


def source_reference(source: WarehouseSource) -> SourceRef:
    """What the store needs: the warehouse's own source and the enabled destinations it feeds."""
    destinations = source.source.destinations.filter(enabled=True).order_by("id").values_list("id", "name")
    return SourceRef(
        id=source.source_id,
        name=source.name,
        enabled=True,
        destinations=tuple(DestinationRef(id=pk, name=name) for pk, name in destinations),
    )


def check_columns(source: WarehouseSource, row: dict[str, Any]) -> None:
    """The columns the source names are in the query's result, or the run fails saying which is not."""
    named = [source.identifier_column]
    if source.kind == WarehouseSource.Kind.EVENT:
        named += [source.event_name_column, source.timestamp_column]
    elif source.kind == WarehouseSource.Kind.OBJECT:
        named.append(source.relationships_column)
    missing = [column for column in named if column and column not in row]
    if missing:
        raise WarehouseError(
            f"the query returns no column {missing[0]!r} (its columns: {', '.join(map(str, row))})"
        )


def diff(source: WarehouseSource, run: SyncRun, rows: list[dict[str, Any]]) -> Chunk:
    """Map a chunk's rows and compare them with the stored fingerprints: what is new, changed, the same."""
    chunk = Chunk()
    chunk.counts["rows_read"] = len(rows)
    mapped, failed = _map_rows(source, run, rows, chunk)
    stored = fingerprints.load(source.pk, [*mapped, *failed])
    # A row that fails is still in the query: mirror mode keeps what it was (it fails alone).
    chunk.seen += [key for key in failed if key in stored and stored[key].fingerprint]
    arrival = Arrival(timezone.now(), ip="", historical=False)
    for key, (number, item) in mapped.items():
        known = stored.get(key)
        if known is not None and known.fingerprint == item.fingerprint:
            chunk.counts["rows_unchanged"] += 1
            chunk.seen.append(key)
        elif known is not None and known.seen_run == run.pk:
            _fail(chunk, number, key, REPEATED)
        else:
            _stage(source, run, chunk, item, known, arrival, number)
    return chunk


def _map_rows(
    source: WarehouseSource, run: SyncRun, rows: list[dict[str, Any]], chunk: Chunk
) -> tuple[dict[str, tuple[int, mapping.MappedRow]], set[str]]:
    """{key: (row number, mapped row)} of the rows that map, and the keys of those that fail (when
    their identifier reads); each failure is kept with its reason."""
    mapped: dict[str, tuple[int, mapping.MappedRow]] = {}
    failed: set[str] = set()
    for number, row in enumerate(rows, start=run.rows_read + 1):
        try:
            item = mapping.map_row(source, row)
            if item.key in mapped:
                raise mapping.RowError(REPEATED)
        except mapping.RowError as error:
            _fail(chunk, number, row.get(source.identifier_column), str(error))
            key = mapping.identity(source, row)
            if key is not None:
                failed.add(key)
        else:
            mapped[item.key] = (number, item)
    return mapped, failed - mapped.keys()


def _stage(
    source: WarehouseSource,
    run: SyncRun,
    chunk: Chunk,
    item: mapping.MappedRow,
    known: fingerprints.Known | None,
    arrival: Arrival,
    number: int,
) -> None:
    """Add a new or changed row's record, checked by the ingestion API's own rules, and its fingerprint."""
    is_new = known is None or not known.fingerprint
    version = 1 if known is None else known.version + 1
    message_id = mapping.message_id(source, item.key, version, item.fingerprint)
    action = mapping.INSERT if is_new else mapping.UPDATE
    try:
        message = prepare(
            mapping.record(source, item.message, action, message_id, run.pk), "row", None, arrival
        )
    except IngestError as error:
        _fail(chunk, number, item.key, str(error))
        if known is not None and known.fingerprint:
            chunk.seen.append(item.key)
        return
    chunk.counts["rows_new" if is_new else "rows_changed"] += 1
    chunk.messages.append(message)
    chunk.fingerprints.append((item.key, item.fingerprint, version, run.pk))


def _fail(chunk: Chunk, row: int | None, identifier: Any, reason: str) -> None:
    chunk.counts["rows_failed"] += 1
    chunk.failures.append(
        {"row": row, "identifier": None if identifier is None else str(identifier), "reason": reason}
    )


def _commit(run: SyncRun, reference: SourceRef, chunk: Chunk) -> None:
    """The chunk's events, fingerprints and counters, in one transaction."""
    now = timezone.now()
    with transaction.atomic():
        if chunk.messages:
            store(reference, chunk.messages, now)
        fingerprints.save(run.warehouse_source_id, chunk.fingerprints)
        if run.warehouse_source.mode == WarehouseSource.Mode.MIRROR:
            fingerprints.mark_seen(run.warehouse_source_id, chunk.seen, run.pk)
        _count(run, chunk, now)


def _count(run: SyncRun, chunk: Chunk, now=None) -> None:
    """Add a chunk's counts to the run (in memory and in its row) and beat its heart."""
    run.heartbeat_at = now or timezone.now()
    for name, value in chunk.counts.items():
        setattr(run, name, getattr(run, name) + value)
    run.events_stored += len(chunk.messages) if not run.dry_run else 0
    room = MAX_FAILURES_KEPT - len(run.failures)
    if room > 0 and chunk.failures:
        run.failures = [*run.failures, *chunk.failures[:room]]
    updates = {name: F(name) + value for name, value in chunk.counts.items() if value}
    if not run.dry_run and chunk.messages:
        updates["events_stored"] = F("events_stored") + len(chunk.messages)
    counted = SyncRun.objects.filter(pk=run.pk, state=SyncRun.State.RUNNING).update(
        **updates, failures=run.failures, samples=run.samples, heartbeat_at=run.heartbeat_at
    )
    if not counted:
        # In _commit's transaction: the chunk's events and fingerprints go back with it.
        raise Interrupted(f"run {run.pk} was taken over")


def _keep_samples(run: SyncRun, reference: SourceRef, messages: list[dict]) -> None:
    room = MAX_SAMPLES - len(run.samples)
    if room <= 0 or not messages:
        return
    destination = Destination.objects.filter(pk__in=[ref.id for ref in reference.destinations]).first()
    run.samples = [*run.samples, *(sample_requests(message, destination) for message in messages[:room])]


def _remove_missing(
    source: WarehouseSource, run: SyncRun, reference: SourceRef, progress: Progress, kept: int
) -> None:
    """Mirror mode: delete, chunk by chunk, what no row of this run's query had (`kept`: the stored rows
    read and kept as they were, unchanged or failed)."""
    missing = RowFingerprint.objects.filter(warehouse_source=source).exclude(fingerprint="").order_by("id")
    if run.dry_run:
        matched = kept + run.rows_changed
        removed = max(missing.count() - matched, 0)
        SyncRun.objects.filter(pk=run.pk).update(rows_removed=removed)
        run.rows_removed = removed
        return
    missing = missing.filter(seen_run__lt=run.pk)
    last_id = 0
    while True:
        batch = list(missing.filter(id__gt=last_id)[: settings.WAREHOUSE_CHUNK_ROWS])
        if not batch:
            return
        last_id = batch[-1].id
        chunk = Chunk()
        arrival = Arrival(timezone.now(), ip="", historical=False)
        for gone in batch:
            version = gone.version + 1
            message_id = mapping.message_id(source, gone.key, version, "")
            removal = mapping.removal(source, gone.key)
            try:
                message = prepare(
                    mapping.record(source, removal, mapping.DELETE, message_id, run.pk), "row", None, arrival
                )
            except IngestError as error:
                _fail(chunk, None, gone.key, str(error))
                continue
            chunk.messages.append(message)
            chunk.counts["rows_removed"] += 1
            chunk.fingerprints.append((gone.key, "", version, run.pk))
        _commit(run, reference, chunk)
        progress(run)


def _finish(run: SyncRun, state: str, error: str) -> None:
    """End the run as `state`; a run taken over stays as the run that took over marked it."""
    now = timezone.now()
    finished = SyncRun.objects.filter(pk=run.pk, state=SyncRun.State.RUNNING).update(
        state=state, error=error, finished_at=now
    )
    if finished:
        run.state, run.error, run.finished_at = state, error, now
    else:
        run.refresh_from_db(fields=["state", "error", "finished_at", *COUNTERS, "events_stored"])
    warehouse = str(run.warehouse_source_id)
    metrics.WAREHOUSE_RUNS.labels(warehouse, run.state).inc()
    for counter in COUNTERS:
        metrics.WAREHOUSE_ROWS.labels(warehouse, counter.removeprefix("rows_")).inc(
            getattr(run, counter) or 0
        )
