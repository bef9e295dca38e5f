"""A scope used once, nested in an open tick (or scope), leaves its plain records to it
(``_nesting.hand_over``, ``Buffer.capture``; the kernel's ``hand_over_plain``): the way a
Textual handler's scope ends.

Each story runs on the kernel's ``with`` and again on the pure one, and what it leaves must be
the same: each nested scope's state and ledger, the tick's entries and origin marks, what the
tick's frame then runs, and its stats. The threaded stress test's ``nested`` and ``nested,
collector`` configurations race hand-overs against frames, posts, each other and the collector
(see docs/concepts/architecture.md on why the first compiled hand-over lost and repeated
records there).
"""

from __future__ import annotations

from typing import Any

import pytest
from blocks import blocks_grown

import airlock
from airlock import _kernel


class OwnCapture(airlock.TickScope):
    """A tick that captures its own way."""

    __slots__ = ()

    def _capture(self, entries: list[Any], child: airlock.Scope, plain: bool = False) -> None:
        super()._capture(entries, child, plain)  # (returns None: it took them)


class Choosing(airlock.TickScope):
    """A tick that chooses what it captures: no hand-over at all."""

    __slots__ = ()

    def before_descendant_flushes(
        self, scope: airlock.Scope, intents: list[airlock.Intent]
    ) -> list[airlock.Intent]:
        return []


class KeepsCapture(airlock.TickScope):
    """A tick subclass that keeps TickScope's capture (as the Textual adapter's AppTick)."""

    __slots__ = ("extra",)


STORIES = ["one scope", "a burst", "the tick's own first", "nested twice", "keyed", "raising",
           "empty", "own capture", "choosing", "keeps capture", "in a scope"]


def _story(story: str) -> list[object]:
    """What a tick's frame with nested scopes leaves: per scope, its state and ledger; the
    tick's entries and marks (scopes by their order) before its frame ends; what the frame
    ran, and the tick's stats."""
    log: list[object] = []
    cls: type[airlock.Scope] = {
        "own capture": OwnCapture, "choosing": Choosing, "keeps capture": KeepsCapture,
        "in a scope": airlock.Scope,  # (a scope used once, not a tick, takes them)
    }.get(story, airlock.TickScope)
    tick = cls()
    scopes: list[airlock.Scope] = []

    def nested(*values: object, key: object = None) -> airlock.Scope:
        with airlock.scope() as scope:
            scopes.append(scope)
            for value in values:
                airlock.enqueue(log.append, value, _key=key)
        return scope

    seen: list[object] = []
    with tick:
        if story == "the tick's own first":
            airlock.enqueue(log.append, "tick")
        if story == "empty":
            nested()
        elif story == "keyed":
            nested("k1", "k2", key="k")
        elif story == "raising":
            with pytest.raises(ValueError), airlock.scope() as scope:
                scopes.append(scope)
                airlock.enqueue(log.append, "lost")
                raise ValueError("in the handler")
        elif story == "nested twice":
            with airlock.scope() as outer:
                scopes.append(outer)
                airlock.enqueue(log.append, "outer")
                nested("inner")
        else:
            nested("a1", "a2")
        if story == "a burst":
            nested("b1")
            airlock.enqueue(log.append, "tick")
            nested("c1", "c2")
            nested("d1")
        order = {id(scope): index for index, scope in enumerate(scopes)}
        buffer = tick._buffer
        seen.append([entry[1] for entry in buffer])
        seen.append(None if buffer.origins is None else [
            (at, None if owner is None else order.get(id(owner), repr(owner)))
            for at, owner in buffer.origins])
        seen.append((buffer.rich, buffer.keyed))
    for scope in scopes:
        lazy = (scope._plain_count, scope._plain_captured)  # (until the stats are read)
        stats = scope.stats
        seen.append((scope._state, scope._parent is None, lazy,
                     (stats.enqueued, stats.dispatched, stats.captured, stats.discarded,
                      stats.coalesced)))
    stats = tick.stats
    seen += [log, (stats.enqueued, stats.dispatched, stats.coalesced, stats.failed)]
    seen.append([order.get(id(intent.scope)) for intent in tick.intents])
    if isinstance(tick, airlock.TickScope):
        tick.close()
    return seen


@pytest.mark.parametrize("story", STORIES)
def test_a_nested_scope_leaves_its_records_to_the_tick_as_the_pure_one_does(
    monkeypatch: pytest.MonkeyPatch, story: str
) -> None:
    compiled = _story(story)
    monkeypatch.setattr(airlock.Scope, "__enter__", _kernel.PURE_LIFECYCLE[0])
    monkeypatch.setattr(airlock.Scope, "__exit__", _kernel.PURE_LIFECYCLE[1])
    assert _story(story) == compiled


def test_a_burst_of_handed_over_scopes_runs_in_order_with_their_provenance() -> None:
    """What the story "a burst" must leave, whichever core runs it."""
    seen = _story("a burst")
    assert seen[0] == [("a1",), ("a2",), ("b1",), ("tick",), ("c1",), ("c2",), ("d1",)]
    assert seen[1] == [(0, 0), (2, 1), (3, None), (4, 2), (6, 3), (7, None)]
    assert seen[3] == ("flushed", True, (2, True), (2, 0, 2, 0, 0))  # one count, until read
    assert seen[-3] == ["a1", "a2", "b1", "tick", "c1", "c2", "d1"]
    assert seen[-2] == (7, 7, 0, 0)
    assert seen[-1] == [0, 0, 1, None, 2, 2, 3]


def test_hand_overs_leave_no_blocks_behind() -> None:
    """Frames of a tick, each with nested scopes that hand their records over (on whichever
    core runs): the allocated blocks stay flat."""
    tick = airlock.tick_scope()

    def frames(n: int) -> None:
        for i in range(n):
            with tick:
                for j in range(3):
                    with airlock.scope():
                        airlock.enqueue(len, (i, j))
                        if j:
                            airlock.enqueue(len, "x")

    grown = blocks_grown(frames, 200, 5_000)
    tick.close()
    assert grown < 100


@pytest.mark.skipif(not airlock.compiled, reason="the pure core hands over in Python")
@pytest.mark.parametrize("story", ["one scope", "a burst", "keeps capture", "in a scope"])
def test_the_kernel_hands_plain_records_over_itself(
    monkeypatch: pytest.MonkeyPatch, story: str
) -> None:
    """The common hand-over never reaches ``_release`` in Python (the kernel's twin runs)."""
    called: list[object] = []
    release = airlock.Scope._release

    def spy(self: airlock.Scope, *args: Any) -> Any:
        called.append(self)
        return release(self, *args)

    monkeypatch.setattr(airlock.Scope, "_release", spy)
    _story(story)
    assert all(isinstance(scope, airlock.TickScope) for scope in called), called


def test_a_capture_override_that_returns_nothing_took_the_entries() -> None:
    """``_capture`` says False only when its scope ended meanwhile; an override that returns
    None took the entries: each effect runs once, in the tick's frame."""
    log = _story("own capture")[-3]
    assert log == ["a1", "a2"]
