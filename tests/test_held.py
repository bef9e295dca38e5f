"""A tick's held effects (``airlock._held``): the hold stage, release requests, the ledger."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from keys import EqRaises

import airlock
from airlock._held import count_held, request_release
from airlock._stats import FlushStats


def test_count_held_moves_the_waiting_effects_through_the_ledger() -> None:
    tick = airlock.tick_scope()
    stats = FlushStats()
    tick._held_in = 2  # two waited when the frame opened, none waits now
    count_held(tick, stats)
    assert (stats.carried_in, stats.carried, stats.held, tick._held_in) == (2, 0, 0, 0)
    tick.close()


def test_request_release_refuses_a_task_that_is_not_held() -> None:
    tick = airlock.tick_scope()
    with pytest.raises(TypeError, match=r"tick\.release\(\) takes a task made with"):
        request_release(tick, print, None)  # type: ignore[arg-type]
    tick.close()


def test_a_release_during_a_frame_runs_at_its_end() -> None:
    log: list[Any] = []
    now = [0.0]
    tick = airlock.tick_scope(clock=lambda: now[0])

    @airlock.debounce(10.0)
    def save(value: Any) -> None:
        log.append(value)

    with tick:
        airlock.enqueue(save, 1)  # type: ignore[arg-type]
    assert log == [] and tick.held == 1
    with tick:
        assert tick.release(save) == 1
        airlock.enqueue(save, 2)  # type: ignore[arg-type]  # the latest arguments win: "save and quit"
    assert log == [2] and tick.held == 0
    tick.close()


# -- a _key that raises at the hold stage fails its own intent; every entry has one fate ----


class HashRaisesAtHold:
    """A ``_key`` whose hash works at the enqueue and the coalesce stage, and raises once the
    hold stage has read the tick's clock (``armed``, see ``Held.clock``)."""

    armed = False

    def __hash__(self) -> int:
        if HashRaisesAtHold.armed:
            raise ValueError("HashRaisesAtHold cannot be hashed now")
        return 11


@pytest.fixture(autouse=True)
def _disarmed() -> Any:
    HashRaisesAtHold.armed = False
    yield
    HashRaisesAtHold.armed = False


class Fates(airlock.Observer):
    def __init__(self) -> None:
        self.heard: list[tuple[str, Any]] = []

    def coalesced(self, intent: airlock.Intent) -> None:
        self.heard.append(("coalesced", intent.args[0]))

    def dispatched(self, intent: airlock.Intent) -> None:
        self.heard.append(("dispatched", intent.args[0]))

    def failed(self, intent: airlock.Intent, error: BaseException) -> None:
        self.heard.append(("failed", intent.args[0]))


class Held:
    """A tick whose clock reads ``now``, and two held tasks: ``fast`` (``kind``, 1 s) and
    ``slow`` (debounce, 10 s), running into ``ran`` as ``plain`` does."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.now = 0.0
        self.ran: list[Any] = []
        self.tick = airlock.tick_scope(clock=self.clock, **options)
        make = airlock.debounce if kind == "debounce" else airlock.throttle
        self.fast: Any = make(1.0)(self.plain)
        self.slow: Any = airlock.debounce(10.0)(self.plain)
        self.kind = kind

    def clock(self) -> float:
        HashRaisesAtHold.armed = True  # read at the hold stage: later hashes raise
        return self.now

    def plain(self, value: Any) -> None:
        self.ran.append(value)

    def wait_a_and_b(self) -> None:
        """"A" (``fast``, key "a": due by t=2) and "B" (``slow``, key "b") wait at t=0.5 (a
        throttle's "lead" ran at t=0)."""
        if self.kind == "throttle":
            with self.tick:
                airlock.enqueue(self.fast, "lead", _key="a")
        self.now = 0.5
        with self.tick:
            airlock.enqueue(self.fast, "A", _key="a")
            airlock.enqueue(self.slow, "B", _key="b")
        assert self.tick.held == 2

    def frame(self, *effects: tuple[Any, ...]) -> None:
        HashRaisesAtHold.armed = False  # until this frame's hold stage
        with self.tick:
            for task, value, *key in effects:
                airlock.enqueue(task, value, _key=key[0] if key else None)

    def later_frames(self) -> list[Any]:
        """What runs in two frames at t=20 and t=40 (everything held is due)."""
        before = len(self.ran)
        for now in (20.0, 40.0):
            self.now = now
            self.frame()
        assert self.tick.held == 0 and self.tick.stats.balance_error() is None
        self.tick.close()
        return self.ran[before:]


KIND = pytest.mark.parametrize("kind", ["debounce", "throttle"])


@KIND
@pytest.mark.parametrize("watched", [False, True], ids=["records", "intents"])
def test_under_raise_a_bad_key_fails_and_a_released_effect_is_undispatched_not_lost(
    kind: str, watched: bool
) -> None:
    fates = Fates()
    held = Held(kind, observers=[fates] if watched else [])
    held.wait_a_and_b()
    held.now = 2.0  # "A" is due, "B" is not
    with pytest.raises(RuntimeError, match="cannot be compared") as info:
        held.frame((held.plain, "C", EqRaises()))
    error: Any = info.value
    assert error.failed_intent.args == ("C",)
    assert [intent.args for intent in error.undispatched_intents] == [("A",)]
    stats = held.tick.stats
    assert (stats.failed, stats.undispatched, stats.carried) == (1, 1, 1)
    assert stats.balance_error() is None
    if watched:
        assert ("failed", "C") in fates.heard and ("dispatched", "A") not in fates.heard
    assert held.later_frames() == ["B"]  # "A" was reported undispatched: it never runs
    if sys.version_info >= (3, 11):
        assert any("its _key <" in note and "EqRaises" in note for note in error.__notes__)


@KIND
def test_under_raise_what_the_stage_held_stays_held_and_runs_once(kind: str) -> None:
    held = Held(kind)
    if kind == "throttle":
        held.frame((held.fast, "lead", "x"))  # "D" below trails it
    held.now = 0.5
    with pytest.raises(RuntimeError, match="cannot be compared") as info:
        held.frame((held.fast, "D", "x"), (held.plain, "E", EqRaises()))
    error: Any = info.value
    assert error.failed_intent.args == ("E",) and error.undispatched_intents == []
    stats = held.tick.stats
    assert (stats.enqueued, stats.failed, stats.undispatched, stats.carried) == (2, 1, 0, 1)
    assert stats.balance_error() is None and held.tick.held == 1
    assert held.later_frames() == ["D"]


@KIND
@pytest.mark.parametrize("errors", ["raise", "continue"])
def test_superseded_effects_count_as_coalesced_when_a_later_key_raises(
    kind: str, errors: str
) -> None:
    fates = Fates()
    held = Held(kind, errors=errors, observers=[fates])
    held.wait_a_and_b()
    held.now = 0.6  # nothing is due
    effects = ((held.plain, "wins", "a"), (held.plain, "C", EqRaises()))  # "wins" supersedes A
    if errors == "raise":
        with pytest.raises(RuntimeError, match="cannot be compared") as info:
            held.frame(*effects)
        error: Any = info.value
        assert [intent.args for intent in error.undispatched_intents] == [("wins",)]
    else:
        held.frame(*effects)
    stats = held.tick.stats
    assert (stats.coalesced, stats.failed, stats.carried) == (1, 1, 1)
    assert stats.balance_error() is None
    assert ("coalesced", "A") in fates.heard and ("failed", "C") in fates.heard
    ran = held.ran[:]
    assert held.later_frames() == ["B"] and "A" not in ran


@KIND
@pytest.mark.parametrize("bad", ["ordinary key, eq", "held key, eq", "held key, hash"])
@pytest.mark.parametrize("watched", [False, True], ids=["records", "intents"])
def test_under_continue_a_bad_key_fails_only_its_intent(kind: str, bad: str, watched: bool) -> None:
    fates = Fates()
    held = Held(kind, errors="continue", observers=[fates] if watched else [])
    held.wait_a_and_b()
    held.now = 2.0  # "A" is due
    if bad == "ordinary key, eq":  # raises against "B"'s key
        failing: tuple[Any, ...] = (held.plain, "C", EqRaises())
    elif bad == "held key, eq":  # hashes like "a": raises against that group's key
        failing = (held.fast, "C", EqRaises(like="a"))
    else:
        failing = (held.fast, "C", HashRaisesAtHold())
    ran_before = held.ran[:]
    held.frame((held.plain, "before"), failing, (held.plain, "after"))
    assert held.ran[len(ran_before):] == ["A", "before", "after"]  # the due one first
    stats = held.tick.stats
    assert (stats.dispatched, stats.failed, stats.carried) == (3, 1, 1)
    assert [intent.args for intent, _ in stats.failures] == [("C",)]
    assert type(stats.failures[0][1]) is (ValueError if bad == "held key, hash" else RuntimeError)
    assert stats.balance_error() is None
    if watched:
        assert fates.heard[-4:] == [
            ("failed", "C"), ("dispatched", "A"), ("dispatched", "before"),
            ("dispatched", "after"),
        ]
    assert held.later_frames() == ["B"]


def test_a_release_whose_key_raises_is_refused_and_the_frame_ends_as_usual() -> None:
    held = Held("debounce")
    held.wait_a_and_b()
    with held.tick:
        with pytest.raises(RuntimeError, match="cannot be compared"):
            held.tick.release(held.fast, key=EqRaises())
        airlock.enqueue(held.plain, "ran")
    assert held.ran == ["ran"] and held.tick.held == 2
    assert held.tick.stats.balance_error() is None
    assert held.later_frames() == ["A", "B"]
