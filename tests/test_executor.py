"""Executors: ``sync_executor``, and executors that take records (``run_task``)."""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from blocks import blocks_grown

import airlock
from airlock import Intent
from airlock._executor import runs_tasks, sync_executor


class TaskRunner:
    """An executor that calls tasks itself and can take records."""

    def __init__(self) -> None:
        self.intents: list[Intent] = []
        self.records = 0

    def __call__(self, intent: Intent) -> Any:
        self.intents.append(intent)
        return intent.task(*intent.args, **intent.kwargs)

    def run_task(
        self, task: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
        get_intent: Callable[[], Intent],
    ) -> Any:
        self.records += 1
        if args and args[0] == "ask":
            self.intents.append(get_intent())
        return task(*args, **kwargs)


def test_an_executor_with_run_task_is_handed_records() -> None:
    log: list[Any] = []
    runner = TaskRunner()
    tick = airlock.tick_scope(executor=runner, order_by=airlock.by_phase("a"))
    with tick:
        airlock.enqueue(log.append, 1)
        airlock.enqueue(log.append, "ask", _key="k")
    assert log == [1, "ask"] and runner.records == 2
    assert all(type(entry) is tuple for entry in tick._buffer[:1])  # no Intent for the first
    assert runner.intents == [tick.intents[1]]  # get_intent() gave the one the tick shows
    assert tick.stats.dispatched == 2 and tick.stats.balance_error() is None


def test_a_task_that_fails_under_run_task_is_reported_with_its_intent() -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    scope = airlock.scope(executor=TaskRunner(), errors="continue")
    with scope:
        airlock.enqueue(boom)
        airlock.enqueue(print, end="")
    (intent, error), = scope.stats.failures
    assert intent is scope.intents[0] and str(error) == "boom"
    assert scope.stats.dispatched == 1


def test_which_executors_take_records() -> None:
    from airlock.integrations.executors.asyncio import AsyncioExecutor

    assert runs_tasks(sync_executor) and runs_tasks(AsyncioExecutor()) and runs_tasks(TaskRunner())
    assert not runs_tasks(lambda intent: None)


def test_an_executor_without_run_task_gets_intents() -> None:
    seen: list[Any] = []
    with airlock.scope(executor=seen.append):
        airlock.enqueue(print, 1)
    assert [type(i) for i in seen] == [Intent]


@pytest.mark.parametrize("direct", [True, False])
def test_sync_executor_calls_the_task(direct: bool) -> None:
    log: list[int] = []
    if direct:
        sync_executor(Intent(log.append, (1,)))
    else:
        with airlock.scope(executor=sync_executor):
            airlock.enqueue(log.append, 1)
    assert log == [1]


# -- an async def effect under an executor that cannot await it ---------------------------

async def push(sent: list[str], text: str) -> None:
    sent.append(text)


class Heard(airlock.Observer):
    def __init__(self) -> None:
        self.fates: list[tuple[str, str]] = []

    def dispatched(self, intent: Intent) -> None:
        self.fates.append(("dispatched", intent.name))

    def failed(self, intent: Intent, error: BaseException) -> None:
        self.fates.append(("failed", intent.name))


def run_refusing(make: Callable[[], Any], enqueue: Callable[[list[str]], None]) -> Any:
    """Run one flush that enqueues through ``enqueue``; return (error, stats, sent, warnings)."""
    sent: list[str] = []
    scope = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error: BaseException | None = None
        try:
            with scope:
                enqueue(sent)
        except TypeError as exc:
            error = exc
        gc.collect()  # a coroutine never closed warns "never awaited" when collected
    never_awaited = [w for w in caught if "never awaited" in str(w.message)]
    return error, scope.stats, sent, never_awaited


PATHS = {
    "scope, plain": (airlock.scope, lambda sent: airlock.enqueue(push, sent, "a")),
    "tick, plain": (airlock.tick_scope, lambda sent: airlock.enqueue(push, sent, "a")),
    "tick, keyed": (airlock.tick_scope, lambda sent: airlock.enqueue(push, sent, "a", _key=1)),
    "scope, keyed": (airlock.scope, lambda sent: airlock.enqueue(push, sent, "a", _key=1)),
    "tick, watched": (lambda: airlock.tick_scope(observers=[Heard()]),
                      lambda sent: airlock.enqueue(push, sent, "a")),
    "tick, ordered": (lambda: airlock.tick_scope(order_by=airlock.by_phase("x")),
                      lambda sent: airlock.enqueue(push, sent, "a")),
    "scope, sync_executor given": (lambda: airlock.scope(executor=sync_executor),
                                   lambda sent: airlock.enqueue(push, sent, "a", _key=1)),
}


@pytest.mark.parametrize("path", PATHS)
def test_an_async_effect_under_the_default_executor_fails_loudly(path: str) -> None:
    make, enqueue = PATHS[path]
    error, stats, sent, never_awaited = run_refusing(make, enqueue)
    assert sent == []
    assert error is not None and "'push' returned a coroutine" in str(error)
    assert "AsyncioExecutor" in str(error)
    assert (stats.dispatched, stats.failed) == (0, 1)
    assert stats.balance_error() is None
    assert never_awaited == []  # the coroutine was closed, not left to the collector


def test_an_async_effect_fails_alone_under_errors_continue(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []
    heard = Heard()
    tick = airlock.tick_scope(errors="continue", observers=[heard])
    with tick:
        airlock.enqueue(log.append, "before")
        airlock.enqueue(push, log, "never")
        airlock.enqueue(log.append, "after")
    assert log == ["before", "after"]
    assert (tick.stats.dispatched, tick.stats.failed) == (2, 1)
    assert heard.fates == [("dispatched", "append"), ("failed", "push"), ("dispatched", "append")]
    assert "returned a coroutine" in caplog.text


def test_effects_that_return_values_other_than_coroutines_run_as_before() -> None:
    log: list[object] = []

    def returns(value: object) -> object:
        log.append(value)
        return value

    with airlock.tick_scope() as tick:
        airlock.enqueue(returns, [1])
        airlock.enqueue(returns, None)
        airlock.enqueue(returns, iter(()))  # an iterator, not a coroutine
    assert tick.stats.dispatched == 3 and len(log) == 3


def _refused_coroutines(frames: int) -> None:
    """Frames whose async effect is refused on each path that calls tasks (plain loop, the
    dispatch loop of a keyed frame, a scope used once)."""
    sent: list[str] = []
    tick = airlock.tick_scope()
    for n in range(frames):
        make = airlock.scope if n % 3 == 2 else lambda: tick
        with contextlib.suppress(TypeError), make():
            airlock.enqueue(push, sent, "x", _key=n % 2 or None)
    tick.close()


def test_refusing_coroutines_leaves_no_blocks_behind() -> None:
    """The refusal closes each coroutine and frees it and the error (the compiled loops'
    ``checked_result`` included)."""
    grown = blocks_grown(_refused_coroutines, 200, 2_000)
    assert grown < 200, f"{grown} blocks retained over 2,000 frames"
