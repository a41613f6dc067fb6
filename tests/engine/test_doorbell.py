"""The doorbell merges a process's rings per destination without ever dropping the last one."""

from __future__ import annotations

import threading
import time

from delivery.engine.doorbell import Coalescer

WINDOW = 0.2


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[float, set[int]]] = []
        self.event = threading.Event()

    def __call__(self, ids: set[int]) -> None:
        self.sent.append((time.monotonic(), set(ids)))
        self.event.set()

    def wait_for(self, count: int, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.sent) >= count, f"only {len(self.sent)} ring(s): {self.sent}"


def test_the_first_ring_goes_out_at_once():
    # Given a quiet destination
    sent = Recorder()
    coalescer = Coalescer(WINDOW, sent)
    # When it rings
    coalescer.ring([7])
    # Then the ring is sent before ring() returns
    assert [ids for _, ids in sent.sent] == [{7}]


def test_rings_within_the_window_merge_into_one_trailing_ring():
    # Given a destination that just rang
    sent = Recorder()
    coalescer = Coalescer(WINDOW, sent)
    started = time.monotonic()
    coalescer.ring([7])
    # When it rings many times more within the window, from a generator too
    for _ in range(50):
        coalescer.ring(iter([7]))
    # Then exactly one more ring goes out, at the end of the window, not before
    sent.wait_for(2)
    time.sleep(WINDOW * 2)
    assert [ids for _, ids in sent.sent] == [{7}, {7}]
    assert sent.sent[1][0] - started >= WINDOW * 0.9


def test_destinations_are_merged_independently():
    # Given destination 1 that just rang
    sent = Recorder()
    coalescer = Coalescer(WINDOW, sent)
    coalescer.ring([1])
    # When 1 and 2 ring together
    coalescer.ring([1, 2])
    # Then 2 goes out at once and 1 at the end of its window
    assert [ids for _, ids in sent.sent] == [{1}, {2}]
    sent.wait_for(3)
    assert sent.sent[2][1] == {1}


def test_a_ring_after_the_window_goes_out_at_once():
    sent = Recorder()
    coalescer = Coalescer(WINDOW, sent)
    coalescer.ring([3])
    time.sleep(WINDOW * 1.5)
    coalescer.ring([3])
    assert [ids for _, ids in sent.sent] == [{3}, {3}]
