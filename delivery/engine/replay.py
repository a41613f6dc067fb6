"""Sending deliveries again, on a person's request (the admin's Replay), without breaking a person's order.

A replayed delivery keeps its id, so the claim barrier (delivery/engine/claims.py) sends it before any
later open delivery of the same person: open deliveries of one person go in id order. What the barrier
cannot see is a later delivery that was already delivered: sent again alone, the older event lands
after it in Customer.io (an identify after the "Signed Up" it should precede). So a replay plan names
those later ones, and may put them back too: pending again with their own ids, they go after the
replayed one in their original order, and Customer.io ends in the state the events meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from delivery.engine import doorbell
from delivery.engine.bulk import update_rows
from delivery.models import Delivery
from destinations.customerio import InstrumentationError

REPLAYABLE = (Delivery.Status.FAILED, Delivery.Status.FILTERED)
# The transformer refused the event itself (recorded as "Instrumentation error: ..." by the loop): the
# same event fails the same way whatever the destination's settings, so replaying it cannot help.
UNCHANGEABLE_PREFIX = f"{InstrumentationError('').title}:"
UNCHANGEABLE = Q(status=Delivery.Status.FAILED, reason__startswith=UNCHANGEABLE_PREFIX)


def is_replayable(delivery: Delivery) -> bool:
    """REPLAYABLE and not UNCHANGEABLE, for a row already read."""
    failed = delivery.status == Delivery.Status.FAILED
    return delivery.status in REPLAYABLE and not (failed and delivery.reason.startswith(UNCHANGEABLE_PREFIX))


UNCHANGEABLE_WHY = "the event itself is wrong (an instrumentation error): sent again, it fails the same way"
# At most this many later deliveries are put back with a replay; past it the plan says so and offers none.
LATER_LIMIT = 10_000
# People looked up in one query for their later deliveries.
PEOPLE_PER_QUERY = 1_000
REPLAY_FIELDS = [
    "status",
    "next_attempt_at",
    "run_attempt_count",
    "run_first_attempt_at",
    "reason",
    "finished_at",
    "replayed_at",
    "replay_count",
    "replays",
]


@dataclass(frozen=True)
class Plan:
    """What a replay of some deliveries would do, before anything changes."""

    asked: int  # how many deliveries were asked for
    replayable: list[int]  # failed or filtered ones that can change, in id (received) order
    unchangeable: list[int]  # failed with an instrumentation error: left out
    later: list[Delivery]  # delivered after a replayable one, same person and destination, in id order
    later_capped: bool  # there are more than LATER_LIMIT later ones: they are not offered

    @property
    def skipped(self) -> int:
        """Delivered or still open ones among those asked for: nothing to replay."""
        return self.asked - len(self.replayable) - len(self.unchangeable)


def plan(delivery_ids: Iterable[int]) -> Plan:
    """What replaying `delivery_ids` would do; a few indexed queries, nothing changed."""
    ids = sorted(set(delivery_ids))
    asked = Delivery.objects.filter(id__in=ids)
    replayable = asked.filter(status__in=REPLAYABLE)
    unchangeable = list(replayable.filter(UNCHANGEABLE).order_by("id").values_list("id", flat=True))
    replayable_ids = list(replayable.exclude(UNCHANGEABLE).order_by("id").values_list("id", flat=True))
    later = later_delivered(replayable_ids, LATER_LIMIT + 1)
    return Plan(len(ids), replayable_ids, unchangeable, later[:LATER_LIMIT], len(later) > LATER_LIMIT)


def later_delivered(delivery_ids: list[int], limit: int) -> list[Delivery]:
    """Delivered deliveries of the same person and destination, received after the earliest of
    `delivery_ids` for that person, in id order.

    One query per PEOPLE_PER_QUERY people, `person IN (...)` on the (person, destination, id) index,
    each person's own start checked here: a query of one OR-ed clause per person costs Django more
    to compile, and PostgreSQL more to plan, than the rows cost to read.
    """
    earliest = {
        (row["destination_id"], row["person"]): row["first"]
        for row in Delivery.objects.filter(id__in=delivery_ids)
        .exclude(person="")
        .values("destination_id", "person")
        .annotate(first=Min("id"))
        .order_by()
    }
    keys = sorted(earliest)
    fields = ("id", "destination_id", "person", "message_type", "event_name", "created_at")
    found: list[Delivery] = []
    for start in range(0, len(keys), PEOPLE_PER_QUERY):
        chunk = keys[start : start + PEOPLE_PER_QUERY]
        candidates = Delivery.objects.filter(
            status=Delivery.Status.DELIVERED,
            destination_id__in={destination for destination, _ in chunk},
            person__in={person for _, person in chunk},
            id__gt=min(earliest[key] for key in chunk),
        ).order_by()
        for delivery in candidates.only(*fields).iterator():
            first = earliest.get((delivery.destination_id, delivery.person))
            if first is not None and delivery.pk > first:
                found.append(delivery)
        if len(found) >= limit:
            break
    return sorted(found, key=lambda delivery: delivery.pk)[:limit]


def replay(delivery_ids: Iterable[int], *, with_later: bool = False, by: str = "") -> int:
    """Replay the replayable ones among `delivery_ids` (see replay_plan); returns how many went back."""
    return len(replay_plan(plan(delivery_ids), with_later=with_later, by=by))


def replay_plan(chosen: Plan, *, with_later: bool = False, by: str = "") -> list[int]:
    """Put the plan's replayable deliveries back to pending, due now, and with `with_later` its later
    delivered ones too; returns the ids of those put back (what changed since the plan stays as it is).

    The filters and the transformer run again with the destination's settings of that moment. Each
    delivery keeps its earlier attempts; its run (what the retry horizon counts) starts again, and
    `replays` notes when and by whom.
    """
    later = [delivery.pk for delivery in chosen.later] if with_later and not chosen.later_capped else []
    now = timezone.now()
    with transaction.atomic():
        rows = Delivery.objects.filter(
            (Q(id__in=chosen.replayable, status__in=REPLAYABLE) & ~UNCHANGEABLE)
            | Q(id__in=later, status=Delivery.Status.DELIVERED),
            claimed_by="",
        )
        if connection.features.has_select_for_update:
            rows = rows.select_for_update()
        deliveries = list(rows.only("id", "destination_id", "replay_count", "replays"))
        for delivery in deliveries:
            _start_again(delivery, now, by)
        update_rows(deliveries, REPLAY_FIELDS, only_if=("claimed_by", ""))
        destination_ids = {delivery.destination_id for delivery in deliveries}
        transaction.on_commit(lambda: doorbell.ring(destination_ids))
    return sorted(delivery.pk for delivery in deliveries)


def _start_again(delivery: Delivery, now: datetime, by: str) -> None:
    delivery.status, delivery.next_attempt_at = Delivery.Status.PENDING, now
    delivery.run_attempt_count, delivery.run_first_attempt_at = 0, None
    delivery.reason, delivery.finished_at = "", None
    delivery.replayed_at, delivery.replay_count = now, delivery.replay_count + 1
    delivery.replays = [*(delivery.replays or []), {"at": now.isoformat(), "by": by}]
