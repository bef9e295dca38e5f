"""The extension API for adapters: a scope made current without entering it, and what happens
to enqueues that reach a scope after it closed (``late_enqueue_target``, ``enqueue_refused``)."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import pytest

import airlock
from airlock import Scope, ScopeStateError, UsageError


def record(log: list[Any], value: Any) -> None:
    log.append(value)


def test_set_current_scope_makes_an_open_scope_the_enqueue_target() -> None:
    log: list[Any] = []
    with airlock.scope() as outer:
        inner = airlock.scope()
        with inner:
            token = airlock.set_current_scope(outer)
            try:
                assert airlock.get_current_scope() is outer
                airlock.enqueue(record, log, "to outer")
            finally:
                airlock.reset_current_scope(token)
            assert airlock.get_current_scope() is inner
        assert [i.scope for i in outer.intents] == [outer]
    assert log == ["to outer"]


def test_a_tick_made_current_between_frames_takes_the_enqueue_into_its_next_frame() -> None:
    log: list[Any] = []
    tick = airlock.tick_scope()
    token = airlock.set_current_scope(tick)
    try:
        airlock.enqueue(record, log, "between frames")
    finally:
        airlock.reset_current_scope(token)
    assert log == [] and tick.pending == 1
    with tick:
        pass
    assert log == ["between frames"]
    assert airlock.get_current_scope() is None


def test_a_plain_scope_that_is_not_active_refuses_at_the_enqueue() -> None:
    done = airlock.scope()
    with done:
        pass
    token = airlock.set_current_scope(done)
    try:
        with pytest.raises(ScopeStateError, match="has already been flushed"):
            airlock.enqueue(record, [], 1)
    finally:
        airlock.reset_current_scope(token)


def test_set_current_scope_refuses_what_is_not_a_scope() -> None:
    with pytest.raises(TypeError, match="takes an airlock scope"):
        airlock.set_current_scope("not a scope")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes the token"):
        airlock.reset_current_scope("not a token")  # type: ignore[arg-type]


def test_a_token_reset_twice_or_in_another_context_is_refused_clearly() -> None:
    scope = airlock.scope()
    token = airlock.set_current_scope(scope)
    airlock.reset_current_scope(token)
    with pytest.raises(ScopeStateError, match="already reset"):
        airlock.reset_current_scope(token)
    token = airlock.set_current_scope(scope)
    errors: list[BaseException] = []

    def elsewhere() -> None:
        try:
            airlock.reset_current_scope(token)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=contextvars.Context().run, args=(elsewhere,))
    thread.start()
    thread.join()
    assert isinstance(errors[0], ScopeStateError) and "another context" in str(errors[0])
    airlock.reset_current_scope(token)


class Forwarding(Scope):
    """A scope whose late enqueues go to another scope (as a UI handler's go to its tick)."""

    def __init__(self, target: Scope) -> None:
        super().__init__()
        self.target = target

    def late_enqueue_target(self) -> Scope | None:
        return self.target


def test_late_enqueues_are_forwarded_to_late_enqueue_target() -> None:
    log: list[Any] = []
    tick = airlock.tick_scope()
    handler = Forwarding(tick)
    with handler:
        context = contextvars.copy_context()  # a task the handler started keeps its scope
    context.run(airlock.enqueue, record, log, "late", _key="k")
    assert log == [] and tick.pending == 1
    with tick:
        pass
    assert log == ["late"]
    assert tick.stats.balance_error() is None


def test_a_late_enqueue_target_that_is_the_scope_itself_is_a_usage_error() -> None:
    class Loop(Scope):
        def late_enqueue_target(self) -> Scope | None:
            return self

    scope = Loop()
    with scope:
        context = contextvars.copy_context()
    with pytest.raises(UsageError, match="returned the scope itself"):
        context.run(airlock.enqueue, record, [], 1)


class Dropping(airlock.TickScope):
    """A tick that drops (and counts) what arrives after close(), instead of raising."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped: list[str] = []

    def enqueue_refused(self, task: Any, error: ScopeStateError) -> None:
        self.dropped.append(str(error))


def test_enqueue_refused_can_drop_and_count_instead_of_raising() -> None:
    tick = Dropping()
    with tick:
        context = contextvars.copy_context()
    tick.close()
    context.run(airlock.enqueue, record, [], 1)
    assert len(tick.dropped) == 1 and "is closed and takes no more intents" in tick.dropped[0]


def test_by_default_a_closed_tick_refuses_at_the_enqueue() -> None:
    tick = airlock.tick_scope()
    with tick:
        context = contextvars.copy_context()
    tick.close()
    with pytest.raises(ScopeStateError):
        context.run(airlock.enqueue, record, [], 1)


def test_get_enqueue_target_tells_whether_enqueues_go_straight_into_a_scope() -> None:
    tick = airlock.tick_scope()
    assert not isinstance(airlock.get_enqueue_target(), Scope)  # no scope open
    with tick:
        assert airlock.get_enqueue_target() is tick
        with airlock.policy(airlock.AllowAll()):
            assert airlock.get_enqueue_target() is not tick  # a policy block is in between
        with airlock.scope() as inner:
            assert airlock.get_enqueue_target() is inner
