"""Held tasks on a tick: ``@airlock.debounce`` / ``@airlock.throttle`` across frames, timed by
the tick's clock, in the ledger, with release(), supersession, close() and threads. (The store
and the stage alone: tests/test_cadence.py.)"""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

import airlock

Clock = list[float]


@pytest.fixture
def now() -> Clock:
    return [0.0]


@pytest.fixture
def ran() -> list[Any]:
    return []


def ticked(now: Clock, **options: Any) -> airlock.TickScope:
    return airlock.tick_scope(clock=lambda: now[0], **options)


def frame_at(tick: airlock.TickScope, now: Clock, t: float, *effects: tuple[Any, ...]) -> None:
    """One frame at clock time ``t`` enqueueing ``effects`` ((task, *args) or with a dict of
    options last); its ledger must balance."""
    now[0] = t
    with tick:
        for task, *args in effects:
            options = args.pop() if args and isinstance(args[-1], dict) else {}
            airlock.enqueue(task, *args, **options)
    assert tick.stats.balance_error() is None, tick.stats


def test_debounce_runs_the_latest_once_after_the_typing_stops(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(0.3)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now)
    for t, query in [(0.0, "c"), (0.1, "ca"), (0.2, "cat")]:
        frame_at(tick, now, t, (lookup, query))
    assert ran == [] and tick.held == 1 and tick.pending == 1
    assert tick.next_due == pytest.approx(0.5)
    assert tick.stats.coalesced == 1 and tick.stats.carried == 1 and tick.stats.held == 1
    frame_at(tick, now, 0.45)
    assert ran == []
    frame_at(tick, now, 0.5)
    assert ran == ["cat"] and tick.held == 0 and tick.next_due is None
    stats = tick.stats
    assert (stats.carried_in, stats.dispatched, stats.carried, stats.pending) == (1, 1, 0, 0)


def test_keys_debounce_separately_and_due_ones_go_first(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(1.0)
    def sync(entity: int, x: int) -> None:
        ran.append((entity, x))

    def marker() -> None:
        ran.append("marker")

    tick = ticked(now)
    frame_at(tick, now, 0.0, (sync, 1, 10, {"_key": 1}), (sync, 2, 20, {"_key": 2}))
    frame_at(tick, now, 0.5, (sync, 1, 11, {"_key": 1}))
    frame_at(tick, now, 1.0, (marker,))
    assert ran == [(2, 20), "marker"]  # key 2 was due: it goes ahead of the frame's own
    frame_at(tick, now, 1.5)
    assert ran == [(2, 20), "marker", (1, 11)]


def test_throttle_leads_then_trails_with_the_latest(now: Clock, ran: list[Any]) -> None:
    @airlock.throttle(1.0)
    def save(state: int) -> None:
        ran.append((now[0], state))

    tick = ticked(now)
    for step in range(25):  # a frame every 0.1 s, a save asked for in each
        frame_at(tick, now, step / 10, (save, step))
    assert ran == [(0.0, 0), (1.0, 9), (2.0, 19)]
    assert tick.held == 1 and tick.next_due == pytest.approx(3.0)


def test_release_runs_held_effects_at_the_end_of_the_open_frame(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(5.0)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now)
    frame_at(tick, now, 0.0, (lookup, "a", {"_key": "left"}), (lookup, "b", {"_key": "right"}))
    with tick:
        assert tick.release(lookup, key="left") == 1
        assert ran == []  # not inside the frame: at its end
    assert ran == ["a"] and tick.held == 1
    assert tick.release(lookup, key="nothing") == 0
    assert tick.release() == 1  # every held task; no frame open: the next frame runs it
    assert ran == ["a"]
    frame_at(tick, now, 0.1)
    assert ran == ["a", "b"]


def test_release_between_frames_asks_for_a_frame(now: Clock) -> None:
    asked = []

    class Waking(airlock.TickScope):
        def on_waiting(self) -> None:
            asked.append(self.held)

    @airlock.debounce(5.0)
    def lookup() -> None: ...

    tick = Waking(clock=lambda: now[0])
    with tick:
        airlock.enqueue(lookup)
    assert asked == []
    tick.release(lookup)
    assert asked == [1]


def test_release_refuses_what_is_not_a_held_task(now: Clock) -> None:
    tick = ticked(now)
    with pytest.raises(TypeError, match=r"@airlock\.debounce or @airlock\.throttle"):
        tick.release(print)  # type: ignore[arg-type]


def test_an_ordinary_enqueue_supersedes_a_held_one(now: Clock, ran: list[Any]) -> None:
    def fetch(query: str) -> None:
        ran.append(query)

    lookup = airlock.debounce(1.0)(fetch)
    tick = ticked(now)
    frame_at(tick, now, 0.0, (lookup, "held"), (lookup, "keyed", {"_key": "k"}))
    frame_at(tick, now, 0.1, (fetch, "now"), (print, {"_key": "k"}))
    assert tick.stats.coalesced == 2 and tick.held == 0
    frame_at(tick, now, 2.0)
    assert ran == ["now"]  # the held ones never run beside it


def test_observers_hear_held_effects_as_coalesced_dispatched_and_discarded(
    now: Clock, ran: list[Any]
) -> None:
    heard: list[tuple[str, Any]] = []

    class Ear(airlock.Observer):
        def enqueued(self, intent: airlock.Intent) -> None:
            heard.append(("enqueued", intent.args))

        def coalesced(self, intent: airlock.Intent) -> None:
            heard.append(("coalesced", intent.args))

        def dispatched(self, intent: airlock.Intent) -> None:
            heard.append(("dispatched", intent.args))

        def discarded(self, intent: airlock.Intent) -> None:
            heard.append(("discarded", intent.args))

    @airlock.debounce(0.5)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now, observers=[Ear()])
    frame_at(tick, now, 0.0, (lookup, "a"))
    frame_at(tick, now, 0.1, (lookup, "b"))
    frame_at(tick, now, 0.6)
    frame_at(tick, now, 0.7, (lookup, "c"))
    tick.close()
    assert ran == ["b"]
    assert heard == [
        ("enqueued", ("a",)), ("enqueued", ("b",)), ("coalesced", ("a",)),
        ("dispatched", ("b",)), ("enqueued", ("c",)), ("discarded", ("c",)),
    ]


def test_close_discards_what_is_still_held_counted(
    now: Clock, ran: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    @airlock.debounce(1.0)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now)
    frame_at(tick, now, 0.0, (lookup, "x"))
    tick.close()
    assert ran == [] and tick.held == 0 and tick.pending == 0
    stats = tick.stats
    assert stats.discarded == 1 and stats.carried == stats.held == 0
    assert stats.balance_error() is None
    assert "held by debounce/throttle" in caplog.text


def test_release_before_close_runs_them(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(1.0)
    def save(state: str) -> None:
        ran.append(state)

    tick = ticked(now)
    frame_at(tick, now, 0.0, (save, "last"))
    tick.release()
    tick.close()
    assert ran == ["last"] and tick.stats.discarded == 0


def test_a_discarded_frame_keeps_what_waited_and_balances(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(0.5)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now)
    frame_at(tick, now, 0.0, (lookup, "kept"))
    now[0] = 1.0
    with pytest.raises(RuntimeError), tick:
        airlock.enqueue(lookup, "discarded with its frame")
        raise RuntimeError("the frame fails")
    stats = tick.stats
    assert stats.balance_error() is None
    assert (stats.discarded, stats.carried_in, stats.carried) == (1, 1, 1)
    frame_at(tick, now, 1.1)
    assert ran == ["kept"]


def test_budgets_carry_released_effects_like_any_other(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(0.1)
    def lookup(query: str) -> None:
        ran.append(query)

    def plain(n: int) -> None:
        ran.append(n)

    tick = ticked(now, max_per_frame=2)
    frame_at(tick, now, 0.0, (lookup, "q"))
    frame_at(tick, now, 1.0, (plain, 1), (plain, 2))
    assert ran == ["q", 1] and tick.stats.carried == 1
    frame_at(tick, now, 1.1)
    assert ran == ["q", 1, 2]


def test_a_policy_filters_held_tasks_before_they_are_held(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(0.1)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now, policy=airlock.BlockTasks(["lookup"]))
    frame_at(tick, now, 0.0, (lookup, "q"))
    assert tick.held == 0 and tick.stats.dropped == 1
    tick.policy = airlock.BlockTasks([f"{__name__}.{lookup.func.__qualname__}"])  # dotted
    frame_at(tick, now, 0.1, (lookup, "q"))
    assert tick.held == 0 and tick.stats.dropped == 1 and ran == []


def test_a_failing_released_effect_is_failed_under_continue(now: Clock) -> None:
    @airlock.debounce(0.1)
    def broken() -> None:
        raise OSError("disk full")

    tick = ticked(now, errors="continue")
    frame_at(tick, now, 0.0, (broken,))
    frame_at(tick, now, 1.0)
    assert tick.stats.failed == 1 and isinstance(tick.stats.failures[0][1], OSError)


def test_nested_scopes_in_a_frame_hand_held_tasks_to_the_tick(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(0.2)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now)
    now[0] = 0.0
    with tick, airlock.scope():
        airlock.enqueue(lookup, "from a handler's scope")
    assert tick.held == 1
    frame_at(tick, now, 0.5)
    assert ran == ["from a handler's scope"]


def test_a_scope_with_no_tick_refuses_held_tasks_at_the_call() -> None:
    @airlock.throttle(1.0)
    def save() -> None: ...

    with airlock.scope(), pytest.raises(airlock.UsageError, match=r"save\.func\(\.\.\.\)"):
        airlock.enqueue(save)
    with pytest.raises(airlock.NoScopeError):
        airlock.enqueue(save)


def test_a_scope_that_keeps_them_from_the_tick_runs_them_now(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(10.0)
    def lookup(query: str) -> None:
        ran.append(query)

    class FlushesOnItsOwn(airlock.TickScope):
        def before_descendant_flushes(self, exiting_scope: Any, intents: list[Any]) -> list[Any]:
            return intents  # let every nested scope flush by itself

    tick = FlushesOnItsOwn(clock=lambda: now[0])
    with tick:
        with airlock.scope() as inner:
            airlock.enqueue(lookup, "inner")
        assert ran == ["inner"] and inner.stats.dispatched == 1  # no tick held it: it ran


def test_posts_from_threads_are_held_like_enqueues(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(0.5)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now)
    posters = [threading.Thread(target=tick.post, args=(lookup, f"q{n}")) for n in range(5)]
    for poster in posters:
        poster.start()
    for poster in posters:
        poster.join()
    frame_at(tick, now, 0.0)
    assert tick.held == 1 and tick.stats.coalesced == 4
    frame_at(tick, now, 1.0)
    assert len(ran) == 1


def test_a_clock_must_be_a_plain_function() -> None:
    async def clock() -> float:
        return 0.0

    with pytest.raises(TypeError, match=r"clock must be a function"):
        airlock.tick_scope(clock=3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"clock must be a function"):
        airlock.tick_scope(clock=clock)  # type: ignore[arg-type]
    assert airlock.tick_scope().clock.__name__ == "monotonic"


def test_a_tick_with_nothing_held_again_runs_plain_frames(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(0.1)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now)
    frame_at(tick, now, 0.0, (lookup, "q"))
    frame_at(tick, now, 1.0)
    frame_at(tick, now, 2.0, (ran.append, "plain"))
    assert ran == ["q", "plain"] and tick.stats.dispatched == 1 and tick.pending == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_holds_none_of_the_parents(now: Clock) -> None:
    @airlock.debounce(1.0)
    def lookup() -> None: ...

    tick = ticked(now)
    frame_at(tick, now, 0.0, (lookup,))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what it holds, then leave at once
        os.write(write, f"{tick.held} {tick.pending}".encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as child:
        assert child.read() == "0 0"
    os.waitpid(pid, 0)
    assert tick.held == 1


def test_a_release_in_a_frame_runs_the_latest_including_later_enqueues(
    now: Clock, ran: list[Any]
) -> None:
    @airlock.throttle(10.0)
    def save(state: int) -> None:
        ran.append(state)

    tick = ticked(now)
    frame_at(tick, now, 0.0, (save, 0))  # leads
    frame_at(tick, now, 1.0, (save, 1))  # held
    now[0] = 2.0
    with tick:
        assert tick.release(save) == 1
        airlock.enqueue(save, 2)  # "save and quit": the frame's latest state is the one saved
    assert ran == [0, 2] and tick.held == 0
    assert tick.stats.balance_error() is None and tick.stats.coalesced == 1


def test_a_failing_frame_drops_its_release(now: Clock, ran: list[Any]) -> None:
    @airlock.debounce(10.0)
    def lookup(query: str) -> None:
        ran.append(query)

    tick = ticked(now)
    frame_at(tick, now, 0.0, (lookup, "q"))
    with pytest.raises(RuntimeError), tick:
        tick.release(lookup)
        raise RuntimeError("the frame fails")
    frame_at(tick, now, 1.0)
    assert ran == [] and tick.held == 1  # it keeps waiting for its time
    frame_at(tick, now, 10.0)
    assert ran == ["q"]


def test_frame_counts_times_a_float_frame_length_do_not_drift(ran: list[Any]) -> None:
    """A clock of frames * (1/60): frame 180 is 3.0, the run at frame 120 was at
    2.0000000000000004; the save due one second after it still runs at frame 180."""

    @airlock.throttle(1.0)
    def save(frame: int) -> None:
        ran.append(frame)

    tick = airlock.tick_scope(clock=lambda: tick.frame * (1000 / 60) / 1000)
    for _ in range(301):
        with tick:
            airlock.enqueue(save, tick.frame)
    assert ran == [0, 59, 119, 179, 239, 299]  # each the latest asked before its run


@pytest.mark.parametrize("order", ["phase below", "phase above"])
def test_a_phase_decorator_applies_on_either_side(now: Clock, ran: list[Any], order: str) -> None:
    """Phases order released effects with the frame's own, whichever side the phase is on."""
    def sync(n: int) -> None:
        ran.append(("sync", n))

    if order == "phase below":
        held = airlock.throttle(1.0)(airlock.phase("network")(sync))
    else:
        held = airlock.phase("network")(airlock.throttle(1.0)(sync))

    @airlock.phase("sound")
    def beep() -> None:
        ran.append("beep")

    tick = ticked(now, order_by=airlock.by_phase("sound", "network"))
    frame_at(tick, now, 0.0, (held, 1), (beep,))
    frame_at(tick, now, 0.5, (held, 2))
    frame_at(tick, now, 1.0, (beep,))
    assert ran == ["beep", ("sync", 1), "beep", ("sync", 2)]
