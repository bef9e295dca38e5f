"""The inbox on its own: order, bounds, the on_full policies, close, fork reset."""

from __future__ import annotations

import threading
import time

import pytest

import airlock
from airlock._inbox import CLOSED, Inbox


def drain(inbox: Inbox, limit: int | None = None, budget_ns: int | None = None) -> list[object]:
    taken: list[object] = []
    inbox.take_into(taken.append, limit, budget_ns)
    return taken


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-1, ValueError), (True, TypeError), (2.0, TypeError), ("3", TypeError)],
)
def test_bad_max_pending_is_refused(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="max_pending must be a positive int"):
        Inbox(max_pending=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["wait", "", None, 1, "DROP_OLDEST"])
def test_unknown_on_full_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="on_full must be one of 'block', 'raise'"):
        Inbox(max_pending=1, on_full=value)  # type: ignore[arg-type]


def test_unbounded_inbox_keeps_arrival_order_and_takes_up_to_a_limit() -> None:
    inbox = Inbox()
    for i in range(10):
        assert inbox.put(i) is None
    assert drain(inbox, limit=4) == [0, 1, 2, 3]
    assert len(inbox) == 6
    assert drain(inbox) == [4, 5, 6, 7, 8, 9]
    assert not inbox


def test_a_time_budget_takes_at_least_one_chunk() -> None:
    inbox = Inbox()
    for i in range(1000):
        inbox.put(i)
    taken = drain(inbox, budget_ns=1)  # over at once: still one chunk
    assert taken == list(range(256))
    assert len(inbox) == 744


def test_raise_when_full() -> None:
    inbox = Inbox(max_pending=2, on_full="raise")
    inbox.put("a")
    inbox.put("b")
    with pytest.raises(airlock.BacklogFullError, match=r"max_pending=2.*on_full='block'"):
        inbox.put("c")
    assert drain(inbox) == ["a", "b"]
    assert inbox.take_shed() == 0


def test_drop_oldest_sheds_the_oldest_and_counts_it() -> None:
    inbox = Inbox(max_pending=2, on_full="drop_oldest")
    assert [inbox.put(x) for x in "abcd"] == [None, None, "a", "b"]
    assert drain(inbox) == ["c", "d"]
    assert inbox.take_shed() == 2
    assert inbox.take_shed() == 0


def test_drop_newest_sheds_the_new_entry() -> None:
    inbox = Inbox(max_pending=2, on_full="drop_newest")
    assert [inbox.put(x) for x in "abcd"] == [None, None, "c", "d"]
    assert drain(inbox) == ["a", "b"]
    assert inbox.take_shed() == 2


def test_block_waits_for_a_frame_to_take_entries() -> None:
    inbox = Inbox(max_pending=1, on_full="block")
    inbox.put("first")
    done = threading.Event()

    def producer() -> None:
        inbox.put("second")
        done.set()

    thread = threading.Thread(target=producer)
    thread.start()
    assert not done.wait(0.2)  # full: the producer waits
    assert drain(inbox) == ["first"]
    assert done.wait(10)
    thread.join()
    assert drain(inbox) == ["second"]


def test_a_putter_that_may_not_wait_is_let_in_past_the_bound() -> None:
    inbox = Inbox(max_pending=1, on_full="block")
    inbox.put("a")
    assert inbox.put("b", may_wait=False) is None  # the frame thread: nothing lost, no wait
    assert drain(inbox) == ["a", "b"]


def test_close_refuses_puts_and_wakes_waiting_putters() -> None:
    inbox = Inbox(max_pending=1, on_full="block")
    inbox.put("a")
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(inbox.put("b")))
    thread.start()
    time.sleep(0.05)
    inbox.close()
    thread.join(10)
    assert outcome == [CLOSED]
    assert inbox.put("c") is CLOSED
    assert inbox.clear() == ["a"]


def test_after_fork_forgets_the_entries_and_the_lock() -> None:
    inbox = Inbox(max_pending=3, on_full="drop_newest")
    for x in "abcd":
        inbox.put(x)
    inbox._lock.acquire()  # as if another thread held it at fork time
    inbox.after_fork()
    assert not inbox and inbox.shed == 0
    assert inbox.put("child") is None
    assert drain(inbox) == ["child"]


def test_many_producers_lose_nothing_under_a_bound() -> None:
    inbox = Inbox(max_pending=8, on_full="block")
    per_thread, threads = 500, 4
    taken: list[object] = []
    stop = threading.Event()

    def frames() -> None:
        while not stop.is_set() or inbox:
            inbox.take_into(taken.append, None, None)
            time.sleep(0.0005)

    consumer = threading.Thread(target=frames)
    consumer.start()
    producers = [
        threading.Thread(target=lambda t=t: [inbox.put((t, i)) for i in range(per_thread)])
        for t in range(threads)
    ]
    for p in producers:
        p.start()
    for p in producers:
        p.join(30)
    stop.set()
    consumer.join(30)
    assert sorted(taken) == sorted((t, i) for t in range(threads) for i in range(per_thread))
    for t in range(threads):  # each producer's order survives
        mine = [i for (owner, i) in taken if owner == t]  # type: ignore[misc]
        assert mine == list(range(per_thread))
