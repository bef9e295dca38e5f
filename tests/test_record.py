"""Records: one tuple per enqueue, and Intents only when something asks for one."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import pytest

import airlock
from airlock import Intent, _record
from airlock._record import PLAIN, key_of, phase_of, to_intent


def fx(*args: Any) -> None:
    """An effect that does nothing."""


@airlock.batch
def send(payloads: list[Any]) -> None:
    """A batch effect that does nothing."""


@airlock.phase("draw")
def draw(*args: Any) -> None:
    """A phased effect that does nothing."""


def test_each_enqueue_stores_the_record_its_features_need() -> None:
    with airlock.scope() as scope:
        airlock.enqueue(fx, 1)
        airlock.enqueue(fx, 2, _key="k")
        airlock.enqueue(fx, 3, _dispatch_options={"queue": "q"}, _name="n")
        airlock.enqueue(send, 4)
        plain, keyed, optioned, batched = scope._buffer
    assert plain == (fx, (1,), {})
    assert len(keyed) > PLAIN and key_of(keyed) == "k"
    assert optioned[:3] == (fx, (3,), {}) and key_of(optioned) is None
    assert batched[0] is send


def test_a_frame_of_keys_batches_and_phases_builds_no_intent() -> None:
    tick = airlock.tick_scope(order_by=airlock.by_phase("draw", "net"))
    with tick:
        airlock.enqueue(fx, 1, _key="k")
        airlock.enqueue(fx, 2, _key="k")
        airlock.enqueue(send, 3)
        airlock.enqueue(draw, 4)
        with airlock.policy(airlock.AllowAll()):
            airlock.enqueue(fx, 5)
    assert all(type(entry) is tuple for entry in tick._buffer)  # kept for ``intents``
    assert tick.stats.coalesced == 1 and tick.stats.dispatched == 4
    assert tick.stats.balance_error() is None


def test_intents_built_later_keep_their_identity() -> None:
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(fx, 1, _key="k")
        with airlock.policy(airlock.AllowAll()):
            airlock.enqueue(fx, 2)
    first = tick.intents
    assert [type(i) for i in first] == [Intent, Intent]
    assert tick.intents[0] is first[0] and first[0].key == "k"
    assert [type(p).__name__ for p in first[1].local_policies] == ["AllowAll"]


def test_a_record_that_fails_is_reported_as_the_intent_the_scope_shows() -> None:
    def boom(*args: Any) -> None:
        raise RuntimeError("boom")

    scope = airlock.scope(errors="continue")
    with scope:
        airlock.enqueue(fx, 1, _key="a")
        airlock.enqueue(boom, 2, _key="b")
        airlock.enqueue(fx, 3, _key="c")
    (failed, error), = scope.stats.failures
    assert str(error) == "boom"
    assert failed is scope.intents[1]
    assert scope.stats.dispatched == 2 and scope.stats.balance_error() is None


def test_a_local_policy_that_refuses_filters_records() -> None:
    log: list[int] = []
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(log.append, 1, _key="a")
        with airlock.policy(airlock.DropAll()):
            airlock.enqueue(log.append, 2, _key="b")
            airlock.enqueue(log.append, 3)
    assert log == [1]
    assert tick.stats.dropped == 2 and tick.stats.balance_error() is None


def test_coalescing_runs_before_the_policies() -> None:
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(fx, 1, _key="k")
        with airlock.policy(airlock.DropAll()):
            airlock.enqueue(fx, 2, _key="k")  # replaces the first, then is refused
    assert (tick.stats.coalesced, tick.stats.dropped, tick.stats.dispatched) == (1, 1, 0)


def test_captured_records_keep_their_provenance() -> None:
    tick = airlock.tick_scope()
    with tick:
        with airlock.scope() as inner:
            airlock.enqueue(fx, 1, _key="k")
            airlock.enqueue(fx, 2)
        airlock.enqueue(fx, 3)
        scopes = [i.scope for i in tick.intents]
    assert scopes == [inner, inner, tick]


def test_to_intent_materializes_every_form() -> None:
    scope = airlock.scope()
    plain = to_intent((fx, (1,), {}), scope)
    assert (plain.task, plain.args, plain.scope) == (fx, (1,), scope)
    full = to_intent((fx, (2,), {}, "n", {"q": 1}, "o", "k", (), scope), scope)
    assert (full.name, full.dispatch_options, full.origin, full.key) == ("n", {"q": 1}, "o", "k")
    assert to_intent(full, scope) is full


def test_an_intent_is_the_full_record_named() -> None:
    """Two shapes: a full record and an Intent have the same fields at the same positions,
    so every reader goes by position; only the class tells whether it was named yet."""
    positions = {name: getattr(_record, name.upper()) for name in Intent._fields}
    assert positions == {name: index for index, name in enumerate(Intent._fields)}
    scope = airlock.scope()
    record = (fx, (2,), {}, None, {"phase": "draw"}, "o", "k", (), scope)
    intent = to_intent(record, scope)
    assert isinstance(intent, tuple) and len(intent) == len(record)
    assert intent[:3] == record[:3] and intent[5:] == record[5:]
    assert intent.name == "fx" and intent.dispatch_options == {"phase": "draw"}
    for entry in (record, intent):
        assert key_of(entry) == "k" and phase_of(entry) == "draw"
    assert key_of((fx, (), {})) is None and phase_of((draw, (), {})) == "draw"


def test_a_buffer_holds_plain_records_and_full_ones_only() -> None:
    with airlock.scope() as scope:
        airlock.enqueue(fx, 1)
        airlock.enqueue(fx, 2, _key="k")
        with airlock.policy(airlock.AllowAll()):
            airlock.enqueue(fx, 3)
        assert len(scope.intents) == 3  # names them all, in place
        airlock.enqueue(send, 4)
        entries = list(scope._buffer)
    assert [type(e).__name__ for e in entries] == ["Intent", "Intent", "Intent", "tuple"]
    assert [len(e) for e in entries] == [9, 9, 9, 9]


def test_a_raising_record_in_an_inline_frame_leaves_the_rest_undispatched_not_lost() -> None:
    log: list[int] = []

    def boom(n: int) -> None:
        raise RuntimeError(f"boom {n}")

    tick = airlock.tick_scope()
    with pytest.raises(RuntimeError, match="boom 2") as info, tick:
        airlock.enqueue(log.append, 1, _key="a")
        airlock.enqueue(boom, 2, _key="b")
        airlock.enqueue(log.append, 3, _key="c")
    assert log == [1]
    assert [i.args for i in info.value.undispatched_intents] == [(3,)]  # type: ignore[attr-defined]
    stats = tick.stats
    assert (stats.dispatched, stats.failed, stats.undispatched) == (1, 1, 1)
    assert stats.balance_error() is None
    with tick:  # the next frame runs only its own effects: nothing runs twice
        airlock.enqueue(log.append, 4, _key="a")
    assert log == [1, 4] and tick.stats.balance_error() is None


def test_records_captured_from_a_nested_scope_keep_their_provenance_after_the_flush() -> None:
    tick = airlock.tick_scope()
    with tick:
        with airlock.scope() as inner:
            airlock.enqueue(fx, 1)  # a plain record, handed over with an origin mark
        airlock.enqueue(fx, 2, _key="k")  # the frame runs on records
    assert all(type(entry) is tuple for entry in tick._buffer)
    assert [i.scope for i in tick.intents] == [inner, tick]


class Raising(airlock.Policy):
    def allows(self, intent: Intent) -> bool:
        if intent.args == (2,):
            raise ValueError("policy broke")
        return True


@pytest.mark.parametrize("errors", ["raise", "continue"])
def test_a_local_policy_raising_on_a_record_fails_that_intent_only(errors: str) -> None:
    log: list[int] = []
    tick = airlock.tick_scope(errors=errors)
    logging.disable(logging.ERROR)
    try:
        with contextlib.suppress(ValueError), tick, airlock.policy(Raising()):
            for n in (1, 2, 3):
                airlock.enqueue(log.append, n, _key=n)
    finally:
        logging.disable(logging.NOTSET)
    stats = tick.stats
    assert stats.failed == 1 and stats.balance_error() is None
    if errors == "continue":
        assert log == [1, 3] and stats.failures[0][0] is tick.intents[1]
    else:
        assert log == [] and stats.undispatched == 2


def test_an_executor_taking_records_that_raises_reports_the_rest_undispatched() -> None:
    class Failing:
        def __call__(self, intent: Intent) -> None:
            raise AssertionError("records go to run_task")

        def run_task(self, task: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                     get_intent: Any) -> None:
            if args == (2,):
                raise RuntimeError("executor broke")
            task(*args, **kwargs)

    log: list[int] = []
    scope = airlock.scope(executor=Failing())
    with pytest.raises(RuntimeError) as info, scope:
        for n in (1, 2, 3):
            airlock.enqueue(log.append, n, _key=n)
    assert log == [1]
    assert info.value.failed_intent is scope.intents[1]  # type: ignore[attr-defined]
    assert [i.args for i in info.value.undispatched_intents] == [(3,)]  # type: ignore[attr-defined]
    assert scope.stats.balance_error() is None


def test_phase_of_reads_the_option_then_the_task_for_records_and_intents() -> None:
    @airlock.phase("draw")
    def draw() -> None: ...

    def plain_task() -> None: ...

    send = airlock.batch(print, phase="network")
    assert airlock.phase_of((draw, (), {})) == "draw"
    assert airlock.phase_of((plain_task, (), {})) is None
    assert airlock.phase_of((send, (1,), {}, None, None, None, None, (), None)) == "network"
    overridden = (draw, (), {}, None, {"phase": "ui"}, None, None, (), None)
    assert airlock.phase_of(overridden) == "ui"
    assert airlock.phase_of(airlock.Intent(draw, dispatch_options={"phase": "ui"})) == "ui"
    assert airlock.phase_of(airlock.Intent(draw)) == "draw"
