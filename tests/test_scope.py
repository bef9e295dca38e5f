"""Scope lifecycle: enter, exit, then flush or discard; intents stay readable afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import functools
import gc
import logging
import pickle
import weakref
from collections.abc import Callable
from typing import Any, Literal

import pytest

import airlock
from airlock import Intent


def effect(log: list[str], tag: str) -> None:
    log.append(tag)


def test_effects_run_only_at_exit_in_fifo_order() -> None:
    log: list[str] = []
    with airlock.scope() as s:
        for tag in "abc":
            airlock.enqueue(effect, log, tag)
        assert log == [] and len(s.intents) == 3
    assert log == ["a", "b", "c"]
    assert s.is_flushed and not s.is_active and not s.is_discarded
    assert (s.stats.enqueued, s.stats.dispatched) == (3, 3)


def test_state_flags_through_the_lifecycle() -> None:
    s = airlock.scope()
    assert not (s.is_active or s.is_flushed or s.is_discarded)
    with s:
        assert s.is_active
    assert s.is_flushed


def test_empty_scope_flushes_with_zero_stats() -> None:
    with airlock.scope() as s:
        pass
    assert s.is_flushed and s.stats.as_dict()["enqueued"] == 0


def test_discard_inside_the_block_is_refused_and_nothing_escapes() -> None:
    """Issue 13.6: discard() inside an inner DropAll scope used to let later enqueues escape
    to the outer scope; now discard() while active is refused and the block discards."""
    log: list[str] = []
    with airlock.scope() as outer:
        with (
            pytest.raises(airlock.ScopeStateError, match=r"still active; call exit\(\) first"),
            airlock.scope(policy=airlock.DropAll()) as muted,
        ):
            muted.discard()
            airlock.enqueue(effect, log, "never")  # pragma: no cover
        with airlock.scope(policy=airlock.DropAll()):
            airlock.enqueue(effect, log, "muted")
    assert log == [] and muted.is_discarded and outer.is_flushed
    assert outer.stats.enqueued == 0


def test_a_context_still_pointing_at_a_settled_scope_is_refused() -> None:
    """Issue 13.6: an enqueue never goes around the scope that was current when it came."""
    log: list[str] = []
    with airlock.scope() as outer:
        with pytest.raises(ValueError), airlock.scope() as inner:
            kept = contextvars.copy_context()  # what a task started here carries along
            raise ValueError
        with pytest.raises(airlock.ScopeStateError, match="already been discarded"):
            kept.run(airlock.enqueue, effect, log, "late")
    assert log == [] and inner.is_discarded and outer.stats.enqueued == 0


def test_imperative_lifecycle_enter_exit_flush() -> None:
    """Issue 14.3: exit() only deactivates; flush() comes after it."""
    log: list[str] = []
    s = airlock.scope()
    assert s.enter() is s and airlock.get_current_scope() is s
    airlock.enqueue(effect, log, "a")
    s.exit()
    assert airlock.get_current_scope() is None
    assert log == [] and not (s.is_active or s.is_flushed or s.is_discarded)
    assert [i.args[1] for i in s.flush()] == ["a"]
    assert log == ["a"] and s.is_flushed


def test_imperative_lifecycle_enter_exit_discard() -> None:
    log: list[str] = []
    s = airlock.scope()
    s.enter()
    airlock.enqueue(effect, log, "a")
    s.exit()
    assert [i.args[1] for i in s.discard()] == ["a"]
    assert log == [] and s.is_discarded and s.stats.discarded == 1


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (["enter", "enter"], "already active"),
        (["exit"], "not active"),
        (["enter", "exit", "exit"], "not active"),
        (["enter", "flush"], r"still active; call exit\(\) first"),
        (["enter", "discard"], r"still active; call exit\(\) first"),
        (["enter", "exit", "flush", "flush"], "already been flushed"),
        (["enter", "exit", "flush", "discard"], "already been flushed"),
        (["enter", "exit", "discard", "flush"], "already been discarded"),
        (["enter", "exit", "discard", "discard"], "already been discarded"),
        (["flush", "flush"], "already been flushed"),
        (["discard", "enter"], "already been discarded"),
        (["enter", "exit", "enter"], "already been exited"),
    ],
)
def test_lifecycle_errors(steps: list[str], message: str) -> None:
    s = airlock.scope()
    *ok, bad = steps
    try:
        for step in ok:
            getattr(s, step)()
        with pytest.raises(airlock.ScopeStateError, match=message):
            getattr(s, bad)()
    finally:
        if s.is_active:
            s.exit()


def test_exit_from_another_context_is_refused_and_can_be_retried_where_it_entered() -> None:
    log: list[str] = []
    s = airlock.scope()
    s.enter()
    airlock.enqueue(effect, log, "a")
    elsewhere = contextvars.copy_context()  # another thread's or asyncio task's context
    with pytest.raises(airlock.ScopeStateError, match="entered in another context"):
        elsewhere.run(s.exit)
    assert s.is_active and airlock.get_current_scope() is s
    s.exit()
    assert airlock.get_current_scope() is None
    assert [i.args[1] for i in s.flush()] == ["a"] and log == ["a"]


def test_a_scope_never_entered_can_be_flushed_or_discarded() -> None:
    assert airlock.scope().flush() == []
    assert airlock.scope().discard() == []


def test_flush_returns_what_was_dispatched_after_policies() -> None:
    """Issue 14.2."""
    log: list[str] = []
    s = airlock.scope(policy=airlock.BlockTasks({"blocked"}))
    s.enter()
    airlock.enqueue(effect, log, "a")
    airlock.enqueue(effect, log, "b", _name="blocked")
    airlock.enqueue(effect, log, "c", _key="k")
    airlock.enqueue(effect, log, "d", _key="k")
    s.exit()
    assert [i.args[1] for i in s.flush()] == ["a", "d"]
    assert [i.args[1] for i in s.intents] == ["a", "b", "c", "d"]


def test_flush_leaves_out_failed_intents_under_continue() -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    s = airlock.scope(errors="continue")
    s.enter()
    airlock.enqueue(effect, [], "a")
    airlock.enqueue(boom)
    s.exit()
    assert [i.name for i in s.flush()] == ["effect"]


def test_flush_of_a_captured_scope_returns_nothing() -> None:
    log: list[str] = []
    with airlock.scope():
        inner = airlock.scope()
        inner.enter()
        airlock.enqueue(effect, log, "a")
        inner.exit()
        assert inner.flush() == [] and inner.stats.captured == 1
    assert log == ["a"]


@pytest.mark.parametrize("how", ["flush", "discard"])
def test_intents_stay_readable_after_the_scope_ends(how: str) -> None:
    """Issue 14.1: the reference's testing pattern reads s.intents after the block."""
    log: list[str] = []
    s = airlock.scope(policy=airlock.DropAll())
    s.enter()
    airlock.enqueue(effect, log, "a")
    with airlock.scope():
        airlock.enqueue(effect, log, "b")
    s.exit()
    getattr(s, how)()
    assert [i.args[1] for i in s.intents] == ["a", "b"]
    assert [i.args[1] for i in s.own_intents] == ["a"]
    assert [i.args[1] for i in s.captured_intents] == ["b"]
    assert log == []


def test_intents_stay_readable_after_a_plain_flush() -> None:
    log: list[str] = []
    with airlock.scope() as outer:
        airlock.enqueue(effect, log, "a")
        with airlock.scope() as inner:
            airlock.enqueue(effect, log, "b")
    assert log == ["a", "b"]
    assert [i.args[1] for i in outer.intents] == ["a", "b"]
    assert [i.args[1] for i in outer.captured_intents] == ["b"]
    assert [i.args[1] for i in inner.intents] == ["b"]
    assert inner.own_intents == inner.intents and inner.intents[0].scope is inner
    assert repr(outer) == "<Scope flushed intents=2>"


def test_intents_stay_readable_after_a_discard_on_error() -> None:
    with pytest.raises(ValueError), airlock.scope() as s:
        airlock.enqueue(effect, [], "a")
        raise ValueError
    assert [i.args[1] for i in s.intents] == ["a"] and s.is_discarded


class Approval(airlock.Scope):
    """Flushes from its own exit(): a subclass written for the reference."""

    def __init__(self, trace: list[str]) -> None:
        super().__init__()
        self.trace = trace

    def exit(self) -> None:
        self.trace.append("exit")
        super().exit()
        self.trace.append(f"flushed {len(self.flush())}")


def test_a_subclass_exit_may_flush_itself() -> None:
    trace: list[str] = []
    with Approval(trace) as s:
        airlock.enqueue(effect, trace, "effect")
    assert trace == ["exit", "effect", "flushed 1"] and s.is_flushed


class Tracing(airlock.Scope):
    """Overrides the lifecycle the reference's way: the inlined `with` must call them all."""

    def __init__(self, trace: list[str], flush: bool = True) -> None:
        super().__init__()
        self.trace = trace
        self.flushes = flush

    def enter(self) -> Tracing:
        self.trace.append("enter")
        return super().enter()

    def exit(self) -> None:
        self.trace.append("exit")
        super().exit()

    def should_flush(self, error: BaseException | None) -> bool:
        self.trace.append(f"should_flush({type(error).__name__})")
        return self.flushes

    def flush(self) -> list[Intent]:
        self.trace.append("flush")
        return super().flush()

    def discard(self) -> list[Intent]:
        self.trace.append("discard")
        return super().discard()


def test_overridden_lifecycle_methods_are_called_in_order() -> None:
    trace: list[str] = []
    with Tracing(trace):
        airlock.enqueue(effect, trace, "effect")
    assert trace == ["enter", "exit", "should_flush(NoneType)", "flush", "effect"]


def test_should_flush_false_discards() -> None:
    trace: list[str] = []
    with Tracing(trace, flush=False) as s:
        airlock.enqueue(effect, trace, "effect")
    assert trace == ["enter", "exit", "should_flush(NoneType)", "discard"] and s.is_discarded


def test_a_deferred_scope_is_driven_imperatively() -> None:
    """The human-in-the-loop pattern: exit now, flush (or discard) later."""
    log: list[str] = []
    s = airlock.scope()
    s.enter()
    airlock.enqueue(effect, log, "a")
    s.exit()
    with airlock.scope():  # opened after it exited: it is not an ancestor
        airlock.enqueue(effect, log, "x")
    assert log == ["x"]
    s.flush()
    assert log == ["x", "a"]


class FlushEvenOnError(airlock.Scope):
    def should_flush(self, error: BaseException | None) -> bool:
        return True


def test_should_flush_can_release_despite_an_error() -> None:
    log: list[str] = []
    with pytest.raises(ValueError), FlushEvenOnError():
        airlock.enqueue(effect, log, "a")
        raise ValueError
    assert log == ["a"]


def test_executor_receives_intents_with_their_metadata() -> None:
    seen: list[Intent] = []
    with airlock.scope(executor=seen.append) as s:
        airlock.enqueue(effect, [], "a", _dispatch_options={"queue": "fast"})
        airlock.enqueue(effect, [], "b")
    assert [i.args[1] for i in seen] == ["a", "b"]
    assert seen[0].dispatch_options == {"queue": "fast"}
    assert all(i.scope is s for i in seen)


def test_reentrant_enqueue_into_a_flushed_scope_is_refused() -> None:
    errors: list[BaseException] = []

    def late() -> None:
        try:
            airlock.enqueue(effect, [], "late")
        except airlock.AirlockError as exc:
            errors.append(exc)

    with airlock.scope():
        airlock.enqueue(late)
    assert len(errors) == 1 and isinstance(errors[0], airlock.NoScopeError)


def test_task_that_outlives_its_scope_cannot_enqueue_into_it() -> None:
    async def main() -> None:
        started = asyncio.Event()
        release = asyncio.Event()

        async def worker() -> None:
            started.set()
            await release.wait()
            airlock.enqueue(effect, [], "late")

        with airlock.scope() as s:
            task = asyncio.create_task(worker())
            await started.wait()
        release.set()
        with pytest.raises(airlock.ScopeStateError, match="outlived its scope"):
            await task
        assert s.is_flushed

    asyncio.run(main())


def test_scoped_decorator_runs_each_call_in_a_fresh_scope() -> None:
    log: list[str] = []

    @airlock.scoped
    def handler(tag: str) -> str:
        before = list(log)
        airlock.enqueue(effect, log, tag)
        assert log == before
        return tag.upper()

    assert handler("a") == "A" and handler("b") == "B"
    assert log == ["a", "b"]


def test_scoped_decorator_with_a_policy() -> None:
    log: list[str] = []

    @airlock.scoped(policy=airlock.DropAll())
    def handler() -> None:
        airlock.enqueue(effect, log, "a")

    handler()
    assert log == []


def test_scoped_decorator_on_a_coroutine_function() -> None:
    async def main() -> None:
        log: list[str] = []

        @airlock.scoped
        async def handler() -> None:
            airlock.enqueue(effect, log, "a")
            await asyncio.sleep(0)
            assert log == []

        await handler()
        assert log == ["a"]

    asyncio.run(main())


def test_scope_with_custom_class_argument() -> None:
    with airlock.scope(_cls=FlushEvenOnError) as s:
        pass
    assert type(s) is FlushEvenOnError


def test_repr_shows_state_and_size() -> None:
    s = airlock.scope()
    assert repr(s) == "<Scope new intents=0>"
    with s:
        airlock.enqueue(effect, [], "a")
        assert repr(s) == "<Scope active intents=1>"


def test_stats_copy_and_as_dict_are_detached() -> None:
    with airlock.scope() as s:
        airlock.enqueue(effect, [], "a")
    kept = s.stats.copy()
    assert kept.as_dict() == s.stats.as_dict()
    assert set(kept.as_dict()) == {
        "batched", "captured", "carried", "carried_in", "coalesced", "discarded", "dispatched",
        "dropped", "enqueued", "failed", "flush_ns", "held", "hook_errors", "pending", "shed",
        "undispatched",
    }
    assert kept is not s.stats and kept.dispatched == 1
    assert "dispatched=1" in repr(kept)


def test_a_policy_class_is_refused_at_construction() -> None:
    """Issue 13.10: the class used to be accepted and fail at the first enqueue."""
    for make in (airlock.scope, airlock.tick_scope, airlock.Scope):
        with pytest.raises(TypeError, match=r"got the class DropAll; instantiate it: "
                           r"policy=DropAll\(\)"):
            make(policy=airlock.DropAll)  # type: ignore[arg-type]
    s = airlock.scope()
    with pytest.raises(TypeError, match="instantiate it"):
        s.policy = airlock.AllowAll  # type: ignore[assignment]
    with pytest.raises(TypeError, match="instantiate it"), airlock.scope():  # noqa: SIM117
        with airlock.policy(airlock.DropAll):  # type: ignore[arg-type]
            pass  # pragma: no cover


def test_an_observer_class_or_a_lone_observer_is_refused_at_construction() -> None:
    class Overlay(airlock.Observer):
        pass

    for make in (airlock.scope, airlock.tick_scope, airlock.Scope):
        with pytest.raises(TypeError, match=r"got the class Overlay; instantiate it: "
                           r"observers=\[Overlay\(\)\]"):
            make(observers=[Overlay])  # type: ignore[list-item]
        with pytest.raises(TypeError, match=r"takes a list of observers.*observers=\[\.\.\.\]"):
            make(observers=Overlay())  # type: ignore[arg-type]


class Arg:
    """An argument whose lifetime the test watches."""


def test_a_frames_failures_are_released_with_the_next_frame() -> None:
    """Issue 13.14: a failed intent stayed referenced across plain frames until stats was read."""

    def boom(arg: Arg) -> None:
        raise RuntimeError("boom")

    tick = airlock.tick_scope(errors="continue")
    arg = Arg()
    alive = weakref.ref(arg)
    logging.disable(logging.ERROR)
    try:
        with tick:
            airlock.enqueue(boom, arg)
    finally:
        logging.disable(logging.NOTSET)
    del arg
    assert alive() is not None  # the frame's failures are readable until the next frame
    for _ in range(3):
        with tick:
            pass  # empty frames used to leave the last failures in place
    gc.collect()
    assert alive() is None
    assert tick.stats.failures == [] and tick.stats.failed == 0


class Picky(airlock.Policy):
    """A policy whose ``allows`` raises for intents named "bad"."""

    def allows(self, intent: Intent) -> bool:
        if intent.name == "bad":
            raise LookupError("policy broke")
        return True


def test_a_raising_policy_fails_its_intent_and_the_rest_go_on_under_continue() -> None:
    log: list[str] = []
    with airlock.scope(policy=Picky(), errors="continue") as s:
        airlock.enqueue(effect, log, "a")
        airlock.enqueue(effect, log, "b", _name="bad")
        airlock.enqueue(effect, log, "c")
    assert log == ["a", "c"]
    assert (s.stats.failed, s.stats.dispatched, s.stats.balance_error()) == (1, 2, None)
    assert [i.args[1] for i, _ in s.stats.failures] == ["b"]


def test_a_raising_policy_aborts_under_raise_with_everything_accounted() -> None:
    log: list[str] = []
    with pytest.raises(LookupError) as info, airlock.scope(policy=Picky()) as s:
        airlock.enqueue(effect, log, "a")
        airlock.enqueue(effect, log, "b", _name="bad")
        airlock.enqueue(effect, log, "c")
    assert log == []
    assert str(info.value.failed_intent) == "bad([], 'b')"  # type: ignore[attr-defined]
    assert [i.args[1] for i in info.value.undispatched_intents] == ["a", "c"]  # type: ignore[attr-defined]
    assert (s.stats.failed, s.stats.undispatched, s.stats.balance_error()) == (1, 2, None)


@pytest.mark.parametrize("errors", ["raise", "continue"])
def test_stats_balance_on_every_flush_path(errors: Literal["raise", "continue"]) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    plain = airlock.scope()
    with plain:
        airlock.enqueue(effect, [], "a")
    dropped = airlock.scope(policy=airlock.DropAll())
    with dropped:
        airlock.enqueue(effect, [], "a")
    with airlock.scope():
        handed = airlock.scope()
        with handed:
            airlock.enqueue(effect, [], "a")
    rich = airlock.scope(errors=errors, policy=airlock.BlockTasks({"blocked"}))
    with pytest.raises(RuntimeError) if errors == "raise" else contextlib.nullcontext(), rich:
        batch = airlock.batch(lambda payloads: None)
        for n in range(3):
            airlock.enqueue(batch, n)
        airlock.enqueue(effect, [], "k1", _key="k")
        airlock.enqueue(effect, [], "k2", _key="k")
        airlock.enqueue(effect, [], "b", _name="blocked")
        airlock.enqueue(boom)
        airlock.enqueue(effect, [], "after")
    with pytest.raises(ValueError), airlock.scope() as discarded:
        airlock.enqueue(effect, [], "a")
        raise ValueError
    for scope in (plain, dropped, handed, rich, discarded):
        assert scope.stats.balance_error() is None, scope
    assert rich.stats.batched == 2 and rich.stats.coalesced == 1 and handed.stats.captured == 1


def test_a_raising_should_flush_discards_the_scope_and_its_error_goes_on() -> None:
    class Undecided(airlock.Scope):
        def should_flush(self, error: BaseException | None) -> bool:
            raise RuntimeError("cannot decide")

    ran: list[int] = []
    with pytest.raises(RuntimeError, match="cannot decide"), Undecided() as s:
        airlock.enqueue(ran.append, 1)
    assert ran == []
    assert s.is_discarded  # a known outcome, not left waiting in an exited scope
    assert (s.stats.enqueued, s.stats.discarded) == (1, 1)
    assert s.stats.balance_error() is None


# -- copies and executors that cannot work ------------------------------------------------


@pytest.mark.parametrize("make", [airlock.scope, airlock.tick_scope])
@pytest.mark.parametrize(
    ("action", "word"),
    [(copy.copy, "copied"), (copy.deepcopy, "copied"), (pickle.dumps, "pickled")],
)
def test_a_scope_refuses_to_be_copied_or_pickled(
    make: Callable[[], airlock.Scope], action: Callable[[Any], Any], word: str
) -> None:
    original = make()
    with pytest.raises(TypeError, match=rf"airlock scopes cannot be {word}.*create a new one"):
        action(original)


def test_an_open_scope_copied_would_have_run_its_effects_twice() -> None:
    ran: list[int] = []
    with airlock.scope() as outer:
        airlock.enqueue(ran.append, 1)
        with pytest.raises(TypeError):
            copy.copy(outer)
    assert ran == [1]


async def _async_executor(intent: airlock.Intent) -> None:
    intent.task(*intent.args, **intent.kwargs)


class _AsyncCallable:
    async def __call__(self, intent: airlock.Intent) -> None: ...


@pytest.mark.parametrize(
    "executor",
    [_async_executor, functools.partial(_async_executor), _AsyncCallable()],
    ids=["async def", "partial", "async __call__"],
)
def test_an_async_executor_is_refused_where_it_is_given(executor: Any) -> None:
    match = r"is an async function.*Use AsyncioExecutor"
    with pytest.raises(TypeError, match=match):
        airlock.scope(executor=executor)
    with pytest.raises(TypeError, match=match):
        airlock.tick_scope(executor=executor)
    with pytest.raises(TypeError, match=match):
        airlock.configure(executor=executor)
    scope = airlock.scope()
    with pytest.raises(TypeError, match=match):
        scope.executor = executor
