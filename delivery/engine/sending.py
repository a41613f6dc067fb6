"""Sending a claim's requests: in parallel across people, strictly in order for each person.

The transformer's combine() lists the requests so that each person's come in received order.
A request may go once it is first in line for every person it carries. When a request ends in
"retry", the later requests of its people are not sent in this claim (released unchanged), and
the claim barrier holds them until the retry is done. Sender threads only do HTTP; the rate
limiter, classification and the database stay on the calling thread.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from cio_project import metrics
from delivery.engine.ratelimit import RateLimiter
from destinations.customerio import Combined
from destinations.track_api import transport
from destinations.track_api.answers import Outcome, Verdict, classify
from destinations.track_api.transport import HttpResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exchange:
    """One request sent, what came back, and what it means."""

    outbound: Combined[int]
    result: HttpResult
    verdict: Verdict

    def outcomes(self) -> dict[int, tuple[Outcome, str]]:
        """What this exchange means for each delivery it carried: its worst item's outcome."""
        if self.outbound.item_refs is None:
            return dict.fromkeys(self.outbound.refs, (self.verdict.outcome, self.verdict.reason))
        outcomes: dict[int, tuple[Outcome, str]] = {}
        for index, ref in enumerate(self.outbound.item_refs):
            outcome = self.verdict.for_item(index)
            if ref not in outcomes or SEVERITY[outcome[0]] > SEVERITY[outcomes[ref][0]]:
                outcomes[ref] = outcome
        return outcomes


# When one delivery gets several outcomes (items of a batch, or several requests), the worst counts.
SEVERITY = {Outcome.DELIVERED: 0, Outcome.RETRY: 1, Outcome.FAILED: 2}


class Schedule:
    """Which combined requests may be sent now, given per-person order and earlier outcomes."""

    def __init__(self, keys: Sequence[frozenset[str]]) -> None:
        self.keys = list(keys)
        self.lines: dict[str, deque[int]] = {}
        for index, request_keys in enumerate(self.keys):
            for key in request_keys:
                self.lines.setdefault(key, deque()).append(index)
        self.released: set[int] = set()
        self._handed_out: set[int] = set()
        self._ready = deque(index for index in range(len(self.keys)) if self._first_in_line(index))

    def _first_in_line(self, index: int) -> bool:
        return all(self.lines[key][0] == index for key in self.keys[index])

    def _may_go(self, index: int) -> bool:
        return index not in self._handed_out and index not in self._ready and self._first_in_line(index)

    def next_ready(self) -> int | None:
        if not self._ready:
            return None
        index = self._ready.popleft()
        self._handed_out.add(index)
        return index

    def finish(self, index: int, retried: bool) -> None:
        """`index` is done; if it will be retried, everything behind it for its people waits."""
        for key in self.keys[index]:
            self.lines[key].popleft()
            if retried:
                self._release_after(key, position=-1)
        for key in self.keys[index]:
            line = self.lines[key]
            if line and self._may_go(line[0]):
                self._ready.append(line[0])

    def give_back(self, index: int) -> None:
        """A request handed out but never sent."""
        self._handed_out.discard(index)

    def release_unsent(self) -> None:
        """Stop: every request not yet handed out is released; those in flight still finish."""
        for key, line in self.lines.items():
            unsent = [index for index in line if index not in self._handed_out]
            self.released.update(unsent)
            self.lines[key] = deque(index for index in line if index in self._handed_out)
        self._ready.clear()

    def _release_after(self, key: str, position: int) -> None:
        """Release what stands behind `position` in `key`'s line, and what stands behind those."""
        line = self.lines[key]
        behind = list(line)[position + 1 :]
        for index in behind:
            if index in self.released:
                continue
            self.released.add(index)
            for other in self.keys[index]:
                other_line = self.lines[other]
                if index in other_line:
                    spot = list(other_line).index(index)
                    self._release_after(other, spot)
                    other_line.remove(index)
        for index in behind:
            if index in line:
                line.remove(index)


@dataclass(frozen=True)
class Pace:
    """How fast, and for how long, a claim's requests may go."""

    limiter: RateLimiter
    destination_id: int
    per_second: float
    # The longest wait for a rate-limiter slot; a worker asked to wait longer gives its claim back.
    max_wait: float
    concurrency: int
    # time.monotonic() after which nothing more is sent, so a claim never outlives its timeout.
    deadline: float


@dataclass
class SendReport:
    released_refs: set[int] = field(default_factory=set)
    # True when the rate limiter asked for a longer wait than we hold claims for, or could not answer.
    rate_limited: bool = False
    out_of_time: bool = False


def send_all(
    outbound: Sequence[Combined[int]],
    keys: Sequence[frozenset[str]],
    *,
    pool: ThreadPoolExecutor,
    pace: Pace,
    on_exchange: Callable[[Exchange], None],
) -> SendReport:
    schedule = Schedule(keys)
    report = SendReport()
    in_flight: dict[Future[HttpResult], int] = {}
    while True:
        _hand_out(outbound, schedule, in_flight, pool, pace, report)
        if not in_flight:
            break
        done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            index = in_flight.pop(future)
            verdict = classify(future.result())
            on_exchange(Exchange(outbound[index], future.result(), verdict))
            schedule.finish(index, retried=verdict.outcome == Outcome.RETRY)
    for index in schedule.released:
        report.released_refs.update(outbound[index].refs)
    return report


def _hand_out(
    outbound: Sequence[Combined[int]],
    schedule: Schedule,
    in_flight: dict[Future[HttpResult], int],
    pool: ThreadPoolExecutor,
    pace: Pace,
    report: SendReport,
) -> None:
    """Start what may go now, each at its rate-limiter slot; on a stop, release what is left."""
    while len(in_flight) < pace.concurrency and not (report.rate_limited or report.out_of_time):
        index = schedule.next_ready()
        if index is None:
            return
        delay = None
        if time.monotonic() >= pace.deadline:
            report.out_of_time = True
        else:
            delay = _reserve(pace)
            report.rate_limited = delay is None
        if delay is None:
            schedule.give_back(index)
            schedule.release_unsent()
            return
        future = pool.submit(_send_at, time.monotonic() + delay, outbound[index].request)
        in_flight[future] = index


def _reserve(pace: Pace) -> float | None:
    """A slot from the rate limiter, or None to stop. A limiter that cannot answer (Redis is down)
    means stop too: raising here would abandon the requests in flight, whose results would then
    never be recorded and which the next claim would send again."""
    try:
        wait = pace.limiter.reserve(pace.destination_id, pace.per_second, pace.max_wait)
    except Exception as error:  # redis-py raises several types
        logger.warning("rate limiter unavailable, giving the rest of the claim back: %s", error)
        return None
    if wait:
        metrics.RATE_LIMIT_WAIT_SECONDS.labels(str(pace.destination_id)).inc(wait)
    return wait


def _send_at(not_before: float, request: Any) -> HttpResult:
    pause = not_before - time.monotonic()
    if pause > 0:
        time.sleep(pause)
    return transport.send(request)
