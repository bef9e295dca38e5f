"""Executors: ``sync_executor``, and executors that take records (``run_task``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

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
