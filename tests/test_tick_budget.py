"""Tick budgets: a budgeted frame costs O(budget + its own new work), whatever the backlog;
budgets are validated wherever they are set and apply from the next frame; every budgeted
frame balances its ledger."""

from __future__ import annotations

import inspect
import logging
import sys
import tracemalloc
from types import FrameType
from typing import Any

import pytest

import airlock
from airlock import Intent
from airlock._inbox import Inbox


def record(log: list[object], tag: object) -> None:
    log.append(tag)


def noop(n: int) -> None:
    pass


def backlog(tick: airlock.TickScope, size: int) -> None:
    """Leave ``size`` released intents in the tick's carry."""
    with tick:
        for n in range(size + (tick.max_per_frame or 1)):
            airlock.enqueue(noop, n)
    assert tick.pending >= size


@pytest.mark.parametrize(
    "budget", [{"max_per_frame": 10}, {"max_flush_ms": 1.0}], ids=["max_per_frame", "max_flush_ms"]
)
def test_a_budgeted_frame_does_not_copy_its_backlog(budget: dict[str, Any]) -> None:
    # memory is the witness of work that grows with the backlog: the old code copied the
    # whole carry into a new list every frame (800 kB for these 100,000 intents)
    tick = airlock.tick_scope(max_per_frame=10)
    backlog(tick, 100_000)
    tick.max_per_frame = budget.get("max_per_frame")
    tick.max_flush_ms = budget.get("max_flush_ms")
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with tick:
            for n in range(10):
                airlock.enqueue(noop, n)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert tick.pending > 90_000
    assert peak < 200_000, f"a frame with a 100,000-intent backlog allocated {peak} bytes"
    assert tick.stats.balance_error() is None


def test_the_carry_goes_first_and_every_budgeted_frame_balances() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(max_per_frame=3)
    with tick:
        for n in range(5):
            airlock.enqueue(record, log, n)
    stats = tick.stats
    assert (stats.enqueued, stats.carried_in, stats.dispatched, stats.carried) == (5, 0, 3, 2)
    assert stats.balance_error() is None
    with tick:
        airlock.enqueue(record, log, "new")
    stats = tick.stats
    assert log == [0, 1, 2, 3, 4, "new"]
    assert (stats.enqueued, stats.carried_in, stats.dispatched, stats.carried) == (1, 2, 3, 0)
    assert stats.balance_error() is None


def test_a_frame_that_raises_keeps_the_carry_and_balances() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(max_per_frame=2)
    with tick:
        for n in range(4):
            airlock.enqueue(record, log, n)
    with pytest.raises(RuntimeError), tick:
        airlock.enqueue(record, log, "lost with the frame")
        raise RuntimeError("update failed")
    stats = tick.stats
    assert (stats.enqueued, stats.discarded, stats.carried_in, stats.carried) == (1, 1, 2, 2)
    assert stats.balance_error() is None
    with tick:
        pass
    assert log == [0, 1, 2, 3]


def test_failures_in_a_budgeted_frame_are_counted_once_and_balance() -> None:
    def boom(n: int) -> None:
        raise ValueError(n)

    tick = airlock.tick_scope(max_flush_ms=1000, errors="continue")
    logging.getLogger("airlock").disabled = True
    try:
        with tick:
            airlock.enqueue(boom, 1)
            airlock.enqueue(noop, 2)
    finally:
        logging.getLogger("airlock").disabled = False
    stats = tick.stats
    assert (stats.enqueued, stats.failed, stats.dispatched) == (2, 1, 1)
    assert stats.balance_error() is None

    raising = airlock.tick_scope(max_per_frame=2)
    with raising:
        for n in range(5):
            airlock.enqueue(boom if n == 2 else noop, n)
    # the next frame dispatches [boom, 3] of the carry [boom, 3, 4] and aborts at boom:
    # 3 is reported undispatched, 4 stays carried
    with pytest.raises(ValueError) as info, raising:
        pass
    assert [i.args for i in info.value.undispatched_intents] == [(3,)]  # type: ignore[attr-defined]
    stats = raising.stats
    assert (stats.carried_in, stats.failed, stats.undispatched, stats.carried) == (3, 1, 1, 1)
    assert stats.balance_error() is None and raising.pending == 1


def test_the_inbox_drain_takes_only_what_was_posted_before_the_frame_opened() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    for n in range(3):
        tick.post(record, log, n)
    # a thread that posts while the frame opens: here, a post at every step of the drain
    lines, first = inspect.getsourcelines(Inbox.take_into)
    drain_line = first + next(i for i, text in enumerate(lines) if "append(take())" in text)
    posted_during = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal posted_during
        if event == "line" and frame.f_lineno == drain_line and posted_during < 1000:
            posted_during += 1
            tick.post(record, log, f"during {posted_during}")
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code is Inbox.take_into.__code__ else None

    tick.post(record, log, "forces the general open")
    sys.settrace(tracer)
    try:
        with tick:
            pass
    finally:
        sys.settrace(None)
    assert log == [0, 1, 2, "forces the general open"]  # the old drain never ended first
    assert tick.pending == posted_during > 0
    with tick:
        pass
    assert len(log) == 4 + posted_during


# -- budgets are validated where they are set and apply from the next frame ----------------------


def test_a_budget_set_after_creation_applies_from_the_next_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope()
    tick.max_per_frame = 2  # was silently ignored
    with tick:
        for n in range(4):
            airlock.enqueue(record, log, n)
    assert log == [0, 1] and tick.pending == 2
    tick.max_per_frame = None
    with tick:
        pass
    assert log == [0, 1, 2, 3]


def test_a_budget_changed_during_a_frame_waits_for_the_next_frame() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(max_per_frame=1)

    def tighten() -> None:
        tick.max_per_frame = 1

    with tick:
        tick.max_per_frame = None  # this frame opened with a limit of 1: it keeps it
        airlock.enqueue(record, log, "a")
        airlock.enqueue(record, log, "b")
    assert log == ["a"]
    with tick:  # now unlimited; an effect asks for a limit again: from the next frame
        airlock.enqueue(tighten)
        airlock.enqueue(record, log, "c")
        airlock.enqueue(record, log, "d")
    assert log == ["a", "b", "c", "d"]
    with tick:
        airlock.enqueue(record, log, "e")
        airlock.enqueue(record, log, "f")
    assert log[-1] == "e" and tick.max_per_frame == 1


def test_a_refused_budget_leaves_the_old_one() -> None:
    tick = airlock.tick_scope(max_per_frame=5, max_flush_ms=2)
    with pytest.raises(ValueError, match="0 would never dispatch"):
        tick.max_per_frame = 0
    with pytest.raises(TypeError, match="max_flush_ms"):
        tick.max_flush_ms = "5"  # type: ignore[assignment]
    assert (tick.max_per_frame, tick.max_flush_ms, tick.max_flush_ns) == (5, 2.0, 2_000_000)


# -- close() ------------------------------------------------------------------------------------


def test_close_ends_closed_and_keeps_the_budgets_even_when_its_last_frame_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[object] = []

    def boom() -> None:
        raise OSError("device gone")

    tick = airlock.tick_scope(max_per_frame=1)
    with tick:
        airlock.enqueue(record, log, 1)
        airlock.enqueue(boom)
        airlock.enqueue(record, log, 2)
    with pytest.raises(OSError) as info:
        tick.close()  # the last frame runs the carry without a budget, and fails at boom
    assert [str(i) for i in info.value.undispatched_intents] == ["record([1], 2)"]  # type: ignore[attr-defined]
    assert log == [1] and tick.pending == 0
    assert tick.max_per_frame == 1  # was set to None for good
    with pytest.raises(airlock.ScopeStateError, match="closed"), tick:
        pass  # pragma: no cover
    with pytest.raises(airlock.ScopeStateError, match="closed"):
        tick.post(record, log, "too late")
    tick.close()  # closing again does nothing


def test_close_discards_what_its_last_frame_left_into_that_frames_ledger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    discarded: list[str] = []

    class Watch(airlock.Observer):
        def discarded(self, intent: Intent) -> None:
            discarded.append(intent.name)

    def echo() -> None:
        airlock.enqueue(noop, 0)

    tick = airlock.tick_scope(observers=[Watch()])
    tick.post(echo)
    with caplog.at_level(logging.WARNING, logger="airlock"):
        tick.close()
    assert discarded == ["noop"] and "closed with 1 intent(s) discarded" in caplog.text
    assert tick.stats.balance_error() is None and tick.stats.discarded == 1


def test_a_frame_opened_plain_after_a_drained_carry_balances_when_it_closes_rich() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(max_per_frame=2)
    with tick:
        for n in range(3):
            airlock.enqueue(record, log, n)
    with tick:
        pass
    assert tick.stats.carried_in == 1 and tick.pending == 0
    tick.max_per_frame = None
    with tick:
        pass
    with tick:  # opened on the plain path, closed on the general one (a keyed intent)
        airlock.enqueue(record, log, "k", _key="k")
    assert tick.stats.carried_in == 0 and tick.stats.balance_error() is None
    assert log == [0, 1, 2, "k"]


def test_a_budgeted_frame_takes_only_a_budget_of_posts() -> None:
    log: list[object] = []
    tick = airlock.tick_scope(max_per_frame=3)
    for n in range(10):
        tick.post(record, log, n)
    with tick:
        pass
    assert log == [0, 1, 2] and tick.stats.enqueued == 3 and tick.pending == 7
    assert tick.stats.balance_error() is None
    while tick.pending:
        with tick:
            pass
    assert log == list(range(10))


def test_a_frame_under_a_time_budget_moves_posts_for_at_most_about_that_time() -> None:
    tick = airlock.tick_scope(max_flush_ms=0.001)  # 1 us: one clock read's worth of posts
    for n in range(5000):
        tick.post(noop, n)
    with tick:
        pass
    # at least one chunk of 256, and whole chunks between clock reads: never all 5000 in 1 us
    assert 256 <= tick.stats.enqueued < 5000 and tick.stats.enqueued % 256 == 0
    assert tick.stats.balance_error() is None


def test_a_batch_merged_by_a_budgeted_frame_waits_as_one_call_and_runs_every_payload() -> None:
    """Its merged call stands where its last payload stood; past the budget it is carried as
    one call (``pending`` 1, the other payload ``batched``) and runs both payloads next frame."""
    ran: list[object] = []
    send = airlock.batch(lambda payloads: ran.append(("send", list(payloads))))
    tick = airlock.tick_scope(max_per_frame=1)
    with tick:
        airlock.enqueue(send, 0)
        airlock.enqueue(ran.append, ("run", 1))
        airlock.enqueue(send, 2)
    assert ran == [("run", 1)]
    stats = tick.stats
    assert (stats.enqueued, stats.dispatched, stats.batched, stats.carried) == (3, 1, 1, 1)
    assert stats.balance_error() is None and tick.pending == 1
    with tick:
        pass
    assert ran == [("run", 1), ("send", [0, 2])] and tick.pending == 0
    assert tick.stats.carried_in == 1 and tick.stats.balance_error() is None
