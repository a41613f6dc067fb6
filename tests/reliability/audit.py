"""After a fault run: what Customer.io received, what the log says, and the figures the issue asks for.

Definitions, per destination:
- lost: an accepted event that is not stored, or whose delivery is still open, or ended filtered or
  failed without a reason, or says "delivered" while Customer.io never took it.
- duplicates: extra times Customer.io took an event (2xx, and for a 207 not among its failed items).
  Each is explained when Customer.io took the event more often than the log recorded a delivered
  attempt for it: a send that reached Customer.io but whose result never made it into the log (its
  worker was SIGKILLed, the database went away before the result was written, or the answer came
  after the read timeout). A delivery with two recorded delivered attempts was sent again although
  the system knew it had arrived: that is an unexplained duplicate, and must not happen.
- duplicates Customer.io would act on: of those, the ones it would not recognise as repeats: it counts
  every take of an event that carries the same de-duplication `id` once, so an event taken with one id
  any number of times is one event to it. Must be 0.
- order violations: for one person at one destination, in the order Customer.io took them, an event
  whose seq is lower than one taken before, unless the same event had been taken already (a repeat).
"""

from __future__ import annotations

import base64
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from tests.reliability.stack import SITES, Stack
from tests.reliability.stream import Ledger, message_id
from tests.support.fake_customerio import ReceivedRequest

OPEN = ("pending", "retrying")


@dataclass(frozen=True)
class Receipt:
    """One event in one request Customer.io received."""

    site: str
    person: str
    seq: int
    taken: bool  # Customer.io accepted it
    event_id: str | None = None  # the de-duplication id it was sent with

    @property
    def message_id(self) -> str:
        return message_id(self.person, self.seq)


@dataclass
class Figures:
    scenario: str
    destination: str
    sent: int = 0
    accepted: int = 0
    delivered: int = 0
    filtered: int = 0
    failed: int = 0
    lost: int = 0
    duplicates: int = 0
    acted_on_duplicates: int = 0
    unexplained_duplicates: int = 0
    order_violations: int = 0
    server_errors: int = 0
    connection_errors: int = 0
    seconds: float = 0.0
    faults: str = ""


def site_of(request: ReceivedRequest) -> str:
    credentials = request.headers.get("Authorization", "").removeprefix("Basic ")
    return base64.b64decode(credentials).decode().partition(":")[0]


def failed_items(request: ReceivedRequest) -> set[int]:
    if request.status != 207:
        return set()
    errors = json.loads(request.answer_body or b"{}").get("errors") or []
    return {error["batch_index"] for error in errors}


def receipts(requests: list[ReceivedRequest]) -> Iterator[Receipt]:
    """Every event in every request, in the order Customer.io received them."""
    for request in requests:
        site, ok = site_of(request), 200 <= request.status < 300
        if request.path.startswith("/api/v2/batch"):
            failed = failed_items(request)
            for index, item in enumerate(request.json["batch"]):
                person, seq = item["identifiers"]["id"], item["attributes"]["seq"]
                yield Receipt(site, person, seq, ok and index not in failed, item.get("id"))
        else:
            person = unquote(request.path.split("/customers/")[1].split("/")[0])
            yield Receipt(site, person, request.json["data"]["seq"], ok, request.json.get("id"))


def order_violations(taken: list[Receipt]) -> int:
    violations = 0
    highest: dict[str, int] = {}
    seen: set[tuple[str, int]] = set()
    for receipt in taken:
        if (receipt.person, receipt.seq) not in seen and receipt.seq < highest.get(receipt.person, -1):
            violations += 1
        seen.add((receipt.person, receipt.seq))
        highest[receipt.person] = max(receipt.seq, highest.get(receipt.person, -1))
    return violations


def log_rows(stack: Stack, version: str) -> dict[str, tuple[str, str, int]]:
    """messageId -> (status, reason, delivered attempts recorded) for one destination's deliveries."""
    rows = stack.query(
        """
        SELECT e.message_id, d.status, d.reason,
               (SELECT count(*) FROM delivery_deliveryattempt a
                 WHERE a.delivery_id = d.id AND a.outcome = 'delivered')
          FROM delivery_delivery d
          JOIN delivery_event e ON e.id = d.event_id
          JOIN destinations_destination dest ON dest.id = d.destination_id
         WHERE dest.api_version = %s
        """,
        [version],
    )
    return {message: (status, reason, recorded) for message, status, reason, recorded in rows}


def audit(stack: Stack, ledger: Ledger, scenario: str, version: str) -> Figures:
    site = SITES[version]
    taken = [receipt for receipt in receipts(stack.fake.requests()) if receipt.site == site and receipt.taken]
    times_taken = Counter(receipt.message_id for receipt in taken)
    log = log_rows(stack, version)
    figures = Figures(scenario, version, sent=len(ledger.sent), accepted=len(ledger.accepted))
    figures.server_errors, figures.connection_errors = (
        ledger.server_errors,
        ledger.answers["connection error"],
    )
    statuses = Counter(status for status, _, _ in log.values())
    figures.delivered, figures.filtered, figures.failed = (
        statuses[s] for s in ("delivered", "filtered", "failed")
    )
    figures.lost = sum(1 for message in ledger.accepted if is_lost(log.get(message), times_taken[message]))
    ids_taken: dict[str, list[str | None]] = defaultdict(list)
    for receipt in taken:
        ids_taken[receipt.message_id].append(receipt.event_id)
    for message, count in times_taken.items():
        recorded = log.get(message, ("", "", 0))[2]
        figures.duplicates += max(0, count - 1)
        figures.acted_on_duplicates += max(0, times_acted_on(ids_taken[message]) - 1)
        figures.unexplained_duplicates += max(0, recorded - 1)
    by_person: dict[str, list[Receipt]] = defaultdict(list)
    for receipt in taken:
        by_person[receipt.person].append(receipt)
    figures.order_violations = sum(order_violations(sequence) for sequence in by_person.values())
    return figures


def times_acted_on(event_ids: list[str | None]) -> int:
    """How many events Customer.io sees in these takes of one: one per distinct id, one per take without."""
    return len({event_id for event_id in event_ids if event_id}) + sum(
        1 for event_id in event_ids if not event_id
    )


def is_lost(row: tuple[str, str, int] | None, times_taken: int) -> bool:
    if row is None:
        return True  # answered 200, yet not stored
    status, reason, _ = row
    if status in OPEN:
        return True
    if status == "delivered":
        return times_taken == 0
    return not reason


def open_deliveries(stack: Stack) -> int:
    return stack.query("SELECT count(*) FROM delivery_delivery WHERE status IN ('pending', 'retrying')")[0][0]


def stored_events(stack: Stack) -> int:
    return stack.query("SELECT count(*) FROM delivery_event")[0][0]
