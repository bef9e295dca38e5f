"""Nested scopes are captured by active ancestors; before_descendant_flushes decides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from racing import Gate, race_the_end

import airlock
from airlock import Intent, Scope


def effect(log: list[str], tag: str) -> None:
    log.append(tag)


def tags(intents: list[Intent]) -> list[str]:
    return [i.args[1] for i in intents]


def test_inner_scope_is_captured_and_released_by_the_outer() -> None:
    log: list[str] = []
    with airlock.scope() as outer:
        airlock.enqueue(effect, log, "a")
        with airlock.scope() as inner:
            airlock.enqueue(effect, log, "b")
        assert log == [] and inner.is_flushed
        assert inner.stats.dispatched == 0
        airlock.enqueue(effect, log, "c")
        assert tags(outer.intents) == ["a", "b", "c"]
    assert log == ["a", "b", "c"]
    assert outer.stats.dispatched == 3


def test_capture_is_recursive_and_keeps_provenance() -> None:
    log: list[str] = []
    with airlock.scope() as outer:
        airlock.enqueue(effect, log, "a")
        with airlock.scope() as middle:
            airlock.enqueue(effect, log, "b")
            with airlock.scope() as inner:
                airlock.enqueue(effect, log, "c")
            assert tags(middle.captured_intents) == ["c"]
        assert tags(outer.own_intents) == ["a"]
        assert tags(outer.captured_intents) == ["b", "c"]
        assert [i.scope for i in outer.intents] == [outer, middle, inner]
    assert log == ["a", "b", "c"]


def test_outer_discard_discards_captured_intents() -> None:
    log: list[str] = []
    with pytest.raises(RuntimeError), airlock.scope():
        with airlock.scope():
            airlock.enqueue(effect, log, "inner")
        raise RuntimeError
    assert log == []


def test_inner_error_discards_only_the_inner_scope() -> None:
    log: list[str] = []
    with airlock.scope():
        airlock.enqueue(effect, log, "a")
        with pytest.raises(RuntimeError), airlock.scope() as inner:
            airlock.enqueue(effect, log, "lost")
            raise RuntimeError
        assert inner.is_discarded
    assert log == ["a"]


def test_outer_policy_applies_to_captured_intents() -> None:
    log: list[str] = []
    with airlock.scope(policy=airlock.BlockTasks(["effect"])) as outer, airlock.scope():
        airlock.enqueue(effect, log, "b")
    assert log == [] and outer.stats.dropped == 1


def test_inner_policy_and_local_policies_filter_before_capture() -> None:
    log: list[str] = []
    with airlock.scope() as outer:
        with airlock.scope(policy=airlock.BlockTasks(["effect"])) as inner:
            airlock.enqueue(effect, log, "blocked")
            airlock.enqueue(log.append, "kept")
        with airlock.scope():
            with airlock.policy(airlock.DropAll()):
                airlock.enqueue(effect, log, "dropped")
            airlock.enqueue(effect, log, "kept too")
        assert inner.stats.dropped == 1
        assert [str(i) for i in outer.intents] == ["append('kept')", "effect([], 'kept too')"]
    assert log == ["kept", "kept too"]


def test_an_exited_unflushed_ancestor_does_not_capture() -> None:
    log: list[str] = []
    waiting = airlock.scope()
    waiting.enter()
    with airlock.scope() as inner:
        airlock.enqueue(effect, log, "inner")
    waiting.exit()
    # a scope opened after the waiting one exited has no parent: it flushes itself
    with airlock.scope():
        airlock.enqueue(effect, log, "x")
    assert log == ["x"] and inner.stats.captured == 1
    assert [i.args[1] for i in waiting.discard()] == ["inner"]
    assert log == ["x"]


def test_an_exited_ancestor_no_longer_captures_a_late_flush() -> None:
    """A descendant exited (not flushed) inside it and flushed after it exited flushes itself."""
    log: list[str] = []
    outer = airlock.scope()
    outer.enter()
    inner = airlock.scope()
    inner.enter()
    airlock.enqueue(effect, log, "late")
    inner.exit()
    outer.exit()
    inner.flush()
    assert log == ["late"] and outer.flush() == []


def test_hook_sees_the_exiting_descendant_innermost_ancestor_first() -> None:
    calls: list[tuple[str, Scope, list[str]]] = []

    class Watching(Scope):
        def __init__(self, label: str) -> None:
            super().__init__()
            self.label = label

        def before_descendant_flushes(
            self, exiting_scope: Scope, intents: list[Intent]
        ) -> list[Intent]:
            calls.append((self.label, exiting_scope, tags(intents)))
            return intents

    log: list[str] = []
    with Watching("outer"), Watching("middle"), airlock.scope() as leaf:
        airlock.enqueue(effect, log, "x")
    assert calls[:2] == [("middle", leaf, ["x"]), ("outer", leaf, ["x"])]
    assert log == ["x"]


def test_capture_in_the_middle_stops_the_offer() -> None:
    asked_about: list[Scope] = []

    class Outermost(Scope):
        def before_descendant_flushes(
            self, exiting_scope: Scope, intents: list[Intent]
        ) -> list[Intent]:
            asked_about.append(exiting_scope)
            return intents

    log: list[str] = []
    with Outermost():
        with airlock.scope() as middle:  # default: captures everything
            with airlock.scope():
                airlock.enqueue(effect, log, "x")
            assert tags(middle.captured_intents) == ["x"]
            assert asked_about == []  # the leaf's intents stopped at middle
        assert log == ["x"]
    assert asked_about == [middle]


def test_captured_intents_keep_identity_into_the_executor() -> None:
    seen: list[Intent] = []
    with airlock.scope(executor=seen.append) as outer:
        with airlock.scope():
            airlock.enqueue(effect, [], "x")
        captured = outer.captured_intents
    assert seen == captured and seen[0] is captured[0]


def test_captured_keys_coalesce_in_the_outer_flush() -> None:
    log: list[str] = []
    with airlock.scope() as outer:
        airlock.enqueue(effect, log, "first", _key="k")
        with airlock.scope():
            airlock.enqueue(effect, log, "second", _key="k")
        airlock.enqueue(effect, log, "other")
    assert log == ["second", "other"] and outer.stats.coalesced == 1


def test_plain_capture_keeps_exact_provenance_through_several_levels() -> None:
    log: list[str] = []
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(effect, log, "t1")
        with airlock.scope() as a:
            airlock.enqueue(effect, log, "a1")
            with airlock.scope() as b:
                airlock.enqueue(effect, log, "b1")
            airlock.enqueue(effect, log, "a2")
        airlock.enqueue(effect, log, "t2")
        owners = [(i.args[1], i.scope) for i in tick.intents]
        assert owners == [("t1", tick), ("a1", a), ("b1", b), ("a2", a), ("t2", tick)]
        assert tags(tick.own_intents) == ["t1", "t2"]
        assert tags(tick.captured_intents) == ["a1", "b1", "a2"]
    assert log == ["t1", "a1", "b1", "a2", "t2"]


def test_plain_capture_then_plain_flush_runs_everything_in_order() -> None:
    log: list[str] = []
    tick = airlock.tick_scope()
    for frame in range(3):
        with tick:
            for depth_tag in ("x", "y"):
                with airlock.scope(), airlock.scope():
                    airlock.enqueue(effect, log, f"{depth_tag}{frame}")
            airlock.enqueue(effect, log, f"own{frame}")
        assert tick.stats.dispatched == 3
    assert log == ["x0", "y0", "own0", "x1", "y1", "own1", "x2", "y2", "own2"]


def test_a_failure_after_plain_capture_reports_intents_with_their_scopes() -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    log: list[str] = []
    with (
        pytest.raises(RuntimeError) as caught,
        airlock.scope() as outer,
        airlock.scope() as inner,
    ):
        airlock.enqueue(boom)
        airlock.enqueue(effect, log, "never")
    failed = caught.value.failed_intent  # type: ignore[attr-defined]
    rest = caught.value.undispatched_intents  # type: ignore[attr-defined]
    assert failed.task is boom and failed.scope is inner
    assert [(i.args[1], i.scope) for i in rest] == [("never", inner)]
    assert outer.is_flushed and log == []


# -- the nesting functions alone (airlock._nesting) --------------------------------------------


def test_capturing_ancestor_skips_ancestors_that_capture_nothing_now() -> None:
    from airlock._nesting import capturing_ancestor

    outer = airlock.scope()
    with outer, airlock.scope() as middle, airlock.scope() as inner:
        assert capturing_ancestor(inner) is middle
        middle._state = "exited"  # not active: it would not capture
        assert capturing_ancestor(inner) is outer
        middle._state = "active"
    assert capturing_ancestor(outer) is None


def test_an_ancestor_chooses_when_it_overrides_before_descendant_flushes() -> None:
    from airlock._nesting import CAPTURES_ALL, ancestor_chooses

    class Keeps(Scope):
        def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[
            Intent
        ]:
            return intents

    assert Scope.before_descendant_flushes in CAPTURES_ALL
    with airlock.scope(), airlock.scope() as inner:
        assert not ancestor_chooses(inner)
    with Keeps(), airlock.scope() as inner:
        assert ancestor_chooses(inner)
    # an override assigned to a class after it was made is not marked either
    class Later(Scope):
        pass

    Later.before_descendant_flushes = Keeps.before_descendant_flushes  # type: ignore[method-assign,assignment]
    with Later(), airlock.scope() as inner:
        assert ancestor_chooses(inner)


def test_the_capture_stage_hands_the_entries_to_a_default_ancestor_on_a_plain_context() -> None:
    from airlock._flush import FlushContext
    from airlock._nesting import offer_to_ancestors
    from airlock._stats import FlushStats

    log: list[str] = []
    with airlock.scope() as outer, airlock.scope() as inner:
        stats = FlushStats()
        ctx = FlushContext.standalone(stats, owner=inner)
        entries: list[Any] = [(effect, (log, "a"), {}), (effect, (log, "b"), {})]
        assert offer_to_ancestors(entries, ctx) == []
        assert stats.captured == 2
        assert [i.scope for i in outer.intents] == [inner, inner]
    assert log == ["a", "b"]


def test_the_capture_stage_keeps_what_a_choosing_ancestor_returns() -> None:
    from airlock._flush import FlushContext
    from airlock._nesting import offer_to_ancestors
    from airlock._stats import FlushStats

    class KeepsB(Scope):
        def before_descendant_flushes(self, exiting_scope: Scope, intents: list[Intent]) -> list[
            Intent
        ]:
            return [i for i in intents if i.args[1] == "b"]

    log: list[str] = []
    with KeepsB() as outer, airlock.scope() as inner:
        stats = FlushStats()
        a, b = Intent(effect, (log, "a"), scope=inner), Intent(effect, (log, "b"), scope=inner)
        assert offer_to_ancestors([a, b], FlushContext.standalone(stats, owner=inner)) == [b]
        assert stats.captured == 1 and outer.intents == [a]


# -- a nested scope racing its parent's end ------------------------------------------------------


class PausingParent(Scope):
    """A parent that captures everything, after pausing at ``gate`` (another thread ends it)."""

    gate: Gate

    def before_descendant_flushes(self, descendant: Scope, intents: list[Intent]) -> list[Intent]:
        self.gate.pause()
        return []


class PausingTick(airlock.TickScope):
    gate: Gate

    def before_descendant_flushes(self, descendant: Scope, intents: list[Intent]) -> list[Intent]:
        self.gate.pause()
        return []


def _nested_enqueue(ran: list[Any], keyed: bool) -> Callable[[], None]:
    def work() -> None:
        with airlock.scope():
            airlock.enqueue(ran.append, 1, _key="k" if keyed else None)

    return work


@pytest.mark.parametrize("parent", ["scope", "tick"])
@pytest.mark.parametrize("keyed", [False, True], ids=["plain", "keyed"])
def test_a_nested_scope_whose_parent_ends_meanwhile_flushes_itself(
    keyed: bool, parent: str
) -> None:
    """Its parent's end (a scope's exit, a tick's close()) comes while the nested scope, on
    another thread, is being flushed: it runs its effect itself."""
    gate, ran = Gate(), []
    owner = PausingParent() if parent == "scope" else PausingTick()
    owner.gate = gate
    after = owner.close if isinstance(owner, PausingTick) else (lambda: None)
    assert race_the_end(owner, gate, _nested_enqueue(ran, keyed), after) is None
    assert ran == [1]
    assert owner.stats.enqueued == 0  # (the parent's flush, or the tick's last frame)
