"""The current scope lives in a ContextVar; airlock.policy() layers local policies over it."""

from __future__ import annotations

import contextvars

import pytest

import airlock
from airlock._context import PolicyView, current_target


def noop() -> None:
    """An effect that does nothing."""


def test_no_scope_by_default() -> None:
    assert airlock.get_current_scope() is None


def test_current_scope_is_the_innermost_and_restored_on_exit() -> None:
    with airlock.scope() as outer:
        assert airlock.get_current_scope() is outer
        with airlock.scope() as inner:
            assert airlock.get_current_scope() is inner
        assert airlock.get_current_scope() is outer
    assert airlock.get_current_scope() is None


def test_policy_block_keeps_the_scope_current() -> None:
    with airlock.scope() as s, airlock.policy(airlock.DropAll()):
        assert airlock.get_current_scope() is s
        assert type(current_target.get()) is PolicyView


def test_local_policies_are_recorded_innermost_first() -> None:
    first, second, third = airlock.AllowAll(), airlock.BlockTasks(["x"]), airlock.DropAll()
    with airlock.scope() as s:
        with airlock.policy(first):
            airlock.enqueue(noop)
            with airlock.policy(second), airlock.policy(third):
                airlock.enqueue(noop)
            airlock.enqueue(noop)
        airlock.enqueue(noop)
        assert [i.local_policies for i in s.intents] == [
            (first,),
            (third, second, first),
            (first,),
            (),
        ]


def test_policy_needs_an_open_scope() -> None:
    with pytest.raises(airlock.NoScopeError, match="needs an open scope"), airlock.policy(
        airlock.DropAll()
    ):
        pass  # pragma: no cover


def test_policy_refuses_a_non_policy() -> None:
    with airlock.scope(), pytest.raises(TypeError, match="not an airlock policy"):  # noqa: SIM117
        with airlock.policy("drop"):  # type: ignore[arg-type]
            pass  # pragma: no cover


def test_a_policy_is_checked_where_the_block_is_made() -> None:
    with pytest.raises(TypeError, match="instantiate it"):
        airlock.policy(airlock.DropAll)  # type: ignore[arg-type]


def test_a_policy_block_decorates_a_function_and_each_call_gets_its_own_block() -> None:
    ran: list[int] = []

    @airlock.policy(airlock.DropAll())
    def spam(depth: int) -> None:
        airlock.enqueue(ran.append, depth)
        if depth:
            spam(depth - 1)  # (a call inside a call: blocks nest)

    with airlock.scope() as s:
        spam(2)
        airlock.enqueue(ran.append, "kept")
        assert current_target.get() is s
    assert ran == ["kept"] and s.stats.dropped == 3


def test_one_policy_block_cannot_be_open_twice() -> None:
    block = airlock.policy(airlock.AllowAll())
    with airlock.scope() as s, block:
        with pytest.raises(RuntimeError, match="open already"), block:
            pass  # pragma: no cover
        assert type(current_target.get()).__name__ == "PolicyView"
    assert airlock.get_current_scope() is None and s.stats.dispatched == 0
    with airlock.scope(), block:  # a closed block opens again
        assert type(current_target.get()).__name__ == "PolicyView"


def test_policy_context_is_restored_after_an_exception() -> None:
    with airlock.scope() as s:
        with pytest.raises(RuntimeError), airlock.policy(airlock.DropAll()):
            raise RuntimeError("boom")
        assert current_target.get() is s


def test_a_copied_context_sees_the_scope_but_a_fresh_one_does_not() -> None:
    with airlock.scope() as s:
        copied = contextvars.copy_context()
    assert copied.run(airlock.get_current_scope) is s
    assert contextvars.Context().run(airlock.get_current_scope) is None


def test_local_policy_view_is_inherited_by_a_nested_scope() -> None:
    log: list[str] = []
    with airlock.scope(), airlock.policy(airlock.DropAll()), airlock.scope():
        airlock.enqueue(log.append, "dropped by the ambient local policy")
    assert log == []


def test_local_policies_reach_into_nested_scopes_once_each() -> None:
    hooks: list[str] = []

    class Named(airlock.Policy):
        def __init__(self, name: str) -> None:
            self.name = name

        def on_enqueue(self, intent: object) -> None:
            hooks.append(self.name)

    outer_policy, inner_policy = Named("outer"), Named("inner")
    with airlock.scope(), airlock.policy(outer_policy), airlock.scope() as inner:
        airlock.enqueue(noop)
        with airlock.policy(inner_policy):
            airlock.enqueue(noop)
        assert [i.local_policies for i in inner.intents] == [
            (outer_policy,),
            (inner_policy, outer_policy),
        ]
    assert hooks == ["outer", "inner", "outer"]


def test_a_local_policy_reaches_scopes_nested_two_deep() -> None:
    log: list[str] = []
    with airlock.scope(), airlock.policy(airlock.DropAll()), airlock.scope(), airlock.scope():
        airlock.enqueue(log.append, "must be dropped")
    assert log == []


def test_runs_inside_a_scope_and_its_nested_scopes() -> None:
    from airlock._context import runs_inside

    outer = airlock.scope()
    assert not runs_inside(outer)
    with outer:
        assert runs_inside(outer)
        with airlock.scope():
            assert runs_inside(outer)
    assert not runs_inside(outer)


def test_close_context_refuses_a_token_of_another_context() -> None:
    from airlock._context import close_context

    scope = airlock.scope()
    scope.enter()
    with pytest.raises(airlock.ScopeStateError, match="entered in another context"):
        contextvars.copy_context().run(close_context, scope)
    close_context(scope)  # here it resets
    assert airlock.get_current_scope() is None
