"""A stream of track events sent the way an SDK sends them, and the ledger of what the API answered.

Each of `people` sends `per_person` events whose `properties.seq` counts up from 0. Sender threads
own disjoint sets of people and send their events in batches, in sequence order; like the SDKs, a
batch that gets a 5xx, a 429 or a connection error is sent again, same messageIds, until the API
takes it, and the thread's next batch waits for that. So the order the API accepts a person's events
in is their sequence order, and a repeat of an accepted batch is the API's to de-duplicate.

A few events are chosen to end somewhere other than "delivered" (see `kind_of`), so the run also
proves filtered and failed deliveries reach a terminal state with a reason.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests

# Event names the destinations treat specially (the fault test sets up the denylist and the fake).
STEP, IGNORED, EXCLUDED, REJECTED = "Step", "Ignored", "Excluded", "Rejected"
BATCH_SIZE = 25
REQUEST_TIMEOUT = 30
# Longest a sender keeps retrying one batch before recording it as never accepted.
PATIENCE_SECONDS = 300


def person_name(index: int) -> str:
    return f"p{index:04d}"


def message_id(person: str, seq: int) -> str:
    return f"{person}.{seq}"


def kind_of(person_index: int, seq: int) -> str:
    """Mostly plain steps; about 1 in 50 denylisted, 1 in 80 excluded by integrations, 1 in 60 refused."""
    code = (person_index * 7919 + seq * 104729) % 2400
    if code < 48:
        return IGNORED
    if code < 78:
        return EXCLUDED
    if code < 118:
        return REJECTED
    return STEP


def event(person_index: int, seq: int) -> dict:
    person = person_name(person_index)
    kind = kind_of(person_index, seq)
    message = {
        "type": "track",
        "userId": person,
        "event": kind,
        "messageId": message_id(person, seq),
        "properties": {"seq": seq},
    }
    if kind == EXCLUDED:
        message["integrations"] = {"All": True, "Customer.io": False}
    return message


@dataclass
class Ledger:
    """What the API answered: every status (or connection error) and the messageIds it took."""

    sent: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)
    answers: Counter = field(default_factory=Counter)
    refused: list[tuple[int, str]] = field(default_factory=list)
    # Each 5xx's body and each connection error's message (their start), counted.
    failures: Counter = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, answer: int | str, batch: list[dict], detail: str = "") -> None:
        with self._lock:
            self.answers[answer] += 1
            if not isinstance(answer, int) or answer >= 500:
                self.failures[answer, detail[:300]] += 1
            self.sent.update(message["messageId"] for message in batch)
            if answer == 200:
                self.accepted.update(message["messageId"] for message in batch)

    @property
    def server_errors(self) -> int:
        return sum(
            count for answer, count in self.answers.items() if isinstance(answer, int) and answer >= 500
        )


class EventStream:
    """Sends people x per_person events to `base_url` over about `duration` seconds, in the background."""

    def __init__(
        self,
        base_url: str,
        write_key: str,
        *,
        people: int,
        per_person: int,
        duration: float,
        threads: int = 4,
    ) -> None:
        self.url = base_url + "/v1/batch"
        self.auth = "Basic " + base64.b64encode(f"{write_key}:".encode()).decode()
        self.people, self.per_person, self.duration, self.threads = people, per_person, duration, threads
        self.ledger = Ledger()
        self._threads = [
            threading.Thread(target=self._send, args=(index,), daemon=True) for index in range(threads)
        ]

    @property
    def total(self) -> int:
        return self.people * self.per_person

    def start(self) -> EventStream:
        self.started_at = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.running:
            raise AssertionError(f"the event stream did not finish within {timeout} s")

    def _batches(self, thread_index: int) -> Iterator[list[dict]]:
        mine = range(thread_index, self.people, self.threads)
        batch: list[dict] = []
        for seq in range(self.per_person):
            for person_index in mine:
                batch.append(event(person_index, seq))
                if len(batch) == BATCH_SIZE:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def _send(self, thread_index: int) -> None:
        session = requests.Session()
        batches = list(self._batches(thread_index))
        interval = self.duration / max(1, len(batches))
        for number, batch in enumerate(batches):
            # Pace the stream over the whole duration, so faults land in the middle of it.
            pause = self.started_at + number * interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._deliver(session, batch)

    def _deliver(self, session: requests.Session, batch: list[dict]) -> None:
        """Send one batch until it is accepted or refused for good, as the SDKs retry."""
        give_up_at, backoff = time.monotonic() + PATIENCE_SECONDS, 0.2
        while time.monotonic() < give_up_at:
            wait = backoff
            try:
                response = session.post(
                    self.url,
                    json={"batch": batch},
                    headers={"Authorization": self.auth},
                    timeout=REQUEST_TIMEOUT,
                )
            except requests.RequestException as error:
                self.ledger.note("connection error", batch, repr(error))
            else:
                self.ledger.note(response.status_code, batch, response.text)
                if response.status_code == 200:
                    return
                if response.status_code < 500 and response.status_code != 429:
                    self.ledger.refused.append((response.status_code, response.text[:300]))
                    return
                wait = max(wait, float(response.headers.get("Retry-After") or 0))
            time.sleep(wait)
            backoff = min(backoff * 2, 2.0)
