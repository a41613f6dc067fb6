"""The send schedule inside one claim: parallel across people, in order per person, held after a retry."""

from __future__ import annotations

from delivery.engine.sending import Schedule


def keys(*people: str) -> frozenset[str]:
    return frozenset(people)


def drain(schedule: Schedule) -> list[int]:
    ready = []
    while (index := schedule.next_ready()) is not None:
        ready.append(index)
    return ready


def test_each_persons_first_request_may_go_at_once():
    schedule = Schedule([keys("ann"), keys("bob"), keys("ann"), keys("cat")])
    assert drain(schedule) == [0, 1, 3]


def test_a_persons_next_request_goes_when_the_one_before_is_done():
    schedule = Schedule([keys("ann"), keys("ann"), keys("ann")])
    assert drain(schedule) == [0]
    schedule.finish(0, retried=False)
    assert drain(schedule) == [1]


def test_a_batch_waits_for_the_earlier_requests_of_every_person_it_carries():
    schedule = Schedule([keys("ann"), keys("bob"), keys("ann", "bob")])
    assert drain(schedule) == [0, 1]
    schedule.finish(0, retried=False)
    assert drain(schedule) == []
    schedule.finish(1, retried=False)
    assert drain(schedule) == [2]


def test_after_a_retry_the_persons_later_requests_are_released_and_others_flow():
    schedule = Schedule([keys("ann"), keys("ann"), keys("bob"), keys("bob")])
    assert drain(schedule) == [0, 2]
    schedule.finish(0, retried=True)
    schedule.finish(2, retried=False)
    assert drain(schedule) == [3]
    assert schedule.released == {1}


def test_a_release_spreads_to_the_people_sharing_a_batch_behind_it():
    # ann retries; her batch with bob is released, so bob's request after that batch waits too,
    # while bob's request before the batch still goes
    schedule = Schedule([keys("ann"), keys("bob"), keys("ann", "bob"), keys("bob"), keys("cat")])
    assert drain(schedule) == [0, 1, 4]
    schedule.finish(0, retried=True)
    assert schedule.released == {2, 3}
    schedule.finish(1, retried=False)
    assert drain(schedule) == []


def test_release_unsent_gives_back_everything_not_handed_out():
    schedule = Schedule([keys("ann"), keys("ann"), keys("bob")])
    assert schedule.next_ready() == 0
    schedule.release_unsent()
    assert schedule.released == {1, 2}
    assert schedule.next_ready() is None


def test_after_a_stop_requests_in_flight_finish_and_nothing_else_goes():
    schedule = Schedule([keys("ann"), keys("ann"), keys("bob")])
    assert drain(schedule) == [0, 2]
    schedule.give_back(2)  # handed out, but the rate limiter refused it a slot
    schedule.release_unsent()
    schedule.finish(0, retried=False)
    assert schedule.next_ready() is None
    assert schedule.released == {1, 2}
