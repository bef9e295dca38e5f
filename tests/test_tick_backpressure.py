"""post() into a bounded tick (max_pending / on_full), the backlog in stats, and signal handlers
that post."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

import airlock

#: how long the producer and signal runs last (s): CI runs them longer
RUN_S = 0.5 if os.environ.get("CI", "").lower() == "true" else 0.2


def test_defaults_are_unbounded() -> None:
    tick = airlock.tick_scope()
    for i in range(10_000):
        tick.post(int, i)
    assert tick.pending == 10_000
    tick.close()
    assert tick.stats.dispatched == 10_000 and tick.stats.discarded == 0


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"max_pending": 0}, ValueError, "max_pending must be a positive int"),
        ({"max_pending": -5}, ValueError, "max_pending must be a positive int"),
        ({"max_pending": 2.5}, TypeError, "max_pending must be a positive int"),
        ({"max_pending": True}, TypeError, "max_pending must be a positive int"),
        ({"max_pending": 10, "on_full": "wait"}, ValueError, "on_full must be one of"),
        ({"on_full": None}, ValueError, "on_full must be one of"),
    ],
)
def test_bad_bounds_are_refused_at_construction(
    options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        airlock.tick_scope(**options)


def test_raise_refuses_the_post_that_does_not_fit() -> None:
    ran: list[int] = []
    tick = airlock.tick_scope(max_pending=2, on_full="raise")
    tick.post(ran.append, 1)
    tick.post(ran.append, 2)
    with pytest.raises(airlock.BacklogFullError, match="max_pending=2"):
        tick.post(ran.append, 3)
    assert isinstance(airlock.BacklogFullError("x"), airlock.AirlockError)
    with tick:
        pass
    assert ran == [1, 2]
    assert tick.stats.enqueued == 2 and tick.stats.balance_error() is None


class Fates(airlock.Observer):
    """What its observers hear of each post: ``enqueued``, then one fate."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, object]] = []

    def enqueued(self, intent: airlock.Intent) -> None:
        self.heard.append(("enqueued", intent.args[0]))

    def discarded(self, intent: airlock.Intent) -> None:
        self.heard.append(("discarded", intent.args[0]))

    def dispatched(self, intent: airlock.Intent) -> None:
        self.heard.append(("dispatched", intent.args[0]))


def test_observers_hear_the_fate_of_a_post_refused_after_its_hooks() -> None:
    """A post refused by the bound (``on_full="raise"``), or because ``close()`` began while
    its hooks ran, was heard ``enqueued``: its observers hear it ``discarded`` too."""
    fates = Fates()
    ran: list[object] = []
    tick = airlock.tick_scope(max_pending=1, on_full="raise", observers=[fates])
    tick.post(ran.append, 1)
    with pytest.raises(airlock.BacklogFullError):
        tick.post(ran.append, 2)
    with tick:
        pass

    class ClosingMidPost(Fates):
        def enqueued(self, intent: airlock.Intent) -> None:
            super().enqueued(intent)
            closer = threading.Thread(target=closing.close)  # close() begins now
            closer.start()
            closer.join(10)

    closing_fates = ClosingMidPost()
    closing = airlock.tick_scope(observers=[closing_fates])
    with pytest.raises(airlock.ScopeStateError, match="closed"):
        closing.post(ran.append, 3)
    assert fates.heard == [("enqueued", 1), ("enqueued", 2), ("discarded", 2),
                           ("dispatched", 1)]
    assert closing_fates.heard == [("enqueued", 3), ("discarded", 3)] and ran == [1]


class Dropped(airlock.Observer):
    def __init__(self) -> None:
        self.seen: list[object] = []

    def dropped(self, intent: airlock.Intent) -> None:
        self.seen.append(intent.args[0])


@pytest.mark.parametrize(
    ("on_full", "runs", "shed"),
    [("drop_oldest", [4, 5], [1, 2, 3]), ("drop_newest", [1, 2], [3, 4, 5])],
)
def test_drops_are_counted_and_reported(on_full: str, runs: list[int], shed: list[int]) -> None:
    ran: list[int] = []
    watcher = Dropped()
    tick = airlock.tick_scope(max_pending=2, on_full=on_full, observers=[watcher])
    for i in range(1, 6):
        tick.post(ran.append, i)
    assert tick.pending == 2
    with tick:
        pass
    assert ran == runs
    assert watcher.seen == shed
    stats = tick.stats
    assert (stats.enqueued, stats.dispatched, stats.dropped, stats.shed) == (5, 2, 3, 3)
    assert stats.balance_error() is None
    with tick:
        pass
    assert tick.stats.shed == 0 and tick.stats.balance_error() is None


def test_block_waits_for_a_frame_and_loses_nothing() -> None:
    ran: list[tuple[int, int]] = []
    tick = airlock.tick_scope(max_pending=20, on_full="block", max_per_frame=7)
    per_thread, threads = 400, 3
    most_waiting = 0

    def producer(t: int) -> None:
        for i in range(per_thread):
            tick.post(ran.append, (t, i))

    workers = [threading.Thread(target=producer, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 60
    while any(w.is_alive() for w in workers) or tick.pending:
        most_waiting = max(most_waiting, tick.pending)
        with tick:
            pass
        assert tick.stats.balance_error() is None
        assert time.monotonic() < deadline, "producers stuck"
    for w in workers:
        w.join()
    assert sorted(ran) == sorted((t, i) for t in range(threads) for i in range(per_thread))
    for t in range(threads):
        assert [i for owner, i in ran if owner == t] == list(range(per_thread))
    assert most_waiting <= 20 + 7  # the inbox bound, plus what one frame carries over


def test_the_frame_thread_is_never_blocked_by_its_own_bound() -> None:
    ran: list[int] = []
    tick = airlock.tick_scope(max_pending=1, on_full="block")
    with tick:
        pass  # this thread runs the frames
    tick.post(ran.append, 1)
    tick.post(ran.append, 2)  # would wait for itself: let in past the bound instead
    assert tick.pending == 2
    with tick:
        pass
    assert ran == [1, 2]


def test_close_wakes_blocked_posters_with_a_clear_error() -> None:
    tick = airlock.tick_scope(max_pending=1, on_full="block")
    with tick:
        pass
    tick.post(print, "first")  # fills the inbox (posted by the frame thread: no wait)
    errors: list[BaseException] = []

    def producer() -> None:
        try:
            tick.post(print, "never")
        except airlock.ScopeStateError as exc:
            errors.append(exc)

    thread = threading.Thread(target=producer)
    thread.start()
    time.sleep(0.1)
    tick.close()
    thread.join(10)
    assert not thread.is_alive()
    assert len(errors) == 1 and "closed" in str(errors[0])


def test_each_frame_reports_the_backlog() -> None:
    tick = airlock.tick_scope(max_per_frame=10)
    for i in range(25):
        tick.post(int, i)
    pending = []
    for _ in range(4):
        with tick:
            pass
        pending.append(tick.stats.pending)
        assert tick.stats.balance_error() is None
    assert pending == [15, 5, 0, 0]


@pytest.mark.parametrize("budget", [{"max_flush_ms": 1.0}, {"max_per_frame": 3}],
                         ids=["time budget", "count budget"])
def test_posts_wait_in_the_inbox_while_the_carry_holds_a_frames_work(
    budget: dict[str, Any],
) -> None:
    """A budgeted frame takes posts only for the room its carry leaves: the rest wait in the
    inbox, where ``max_pending`` bounds them (taking them all into the carry, which nothing
    bounds, made the bound useless under a time budget)."""
    ran: list[int] = []

    def slow(n: int) -> None:
        ran.append(n)
        time.sleep(0.002)  # a 1 ms budget runs one of these a frame

    tick = airlock.tick_scope(max_pending=10, on_full="raise", **budget)
    with tick:
        for n in range(10):
            airlock.enqueue(slow, n)  # the frame's own: more than it may run, carried
    assert tick.stats.carried > 3
    for n in range(10, 20):
        tick.post(slow, n)
    with tick:  # the carry is a frame's work or more: no post is taken
        pass
    assert tick.stats.enqueued == 0
    with pytest.raises(airlock.BacklogFullError):
        tick.post(slow, 20)  # the bound holds
    tick.close()
    assert sorted(ran) == list(range(20)) and ran == sorted(ran)


def test_a_bound_keeps_a_fast_producer_from_growing_the_backlog() -> None:
    tick = airlock.tick_scope(max_pending=1_000, on_full="drop_oldest", max_per_frame=100)
    stop = threading.Event()
    posted = [0, 0]

    def producer(slot: int) -> None:
        while not stop.is_set():
            tick.post(int, 1)
            posted[slot] += 1

    workers = [threading.Thread(target=producer, args=(slot,)) for slot in range(2)]
    for w in workers:
        w.start()
    seen = dispatched = shed = 0
    end = time.monotonic() + RUN_S
    while time.monotonic() < end:
        with tick:
            pass
        seen = max(seen, tick.pending)
        dispatched += tick.stats.dispatched
        shed += tick.stats.shed
    stop.set()
    for w in workers:
        w.join()
    tick.close()
    dispatched += tick.stats.dispatched
    shed += tick.stats.shed
    assert seen <= 1_000
    assert dispatched + shed + tick.stats.discarded == sum(posted)


_SIGNAL_SCRIPT = textwrap.dedent(
    """
    import signal, sys, time
    import airlock

    on_full = sys.argv[1]
    bound = None if on_full == "none" else 50
    tick = airlock.tick_scope(max_pending=bound, on_full=on_full if bound else "block")
    handled = []

    def handler(signum, frame):
        tick.post(handled.append, signum)

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
    with tick:
        pass  # this thread runs the frames
    posted = 0
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        for _ in range(200):
            tick.post(int, 0)
            posted += 1
        with tick:
            pass
    signal.setitimer(signal.ITIMER_REAL, 0, 0)
    tick.close()
    print(len(handled), posted)
    """
)


@pytest.mark.parametrize("on_full", ["none", "block", "drop_newest"])
def test_a_signal_handler_that_posts_never_blocks(on_full: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _SIGNAL_SCRIPT, on_full, str(RUN_S)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    handled, posted = map(int, result.stdout.split())
    assert handled > 10 and posted > 0
