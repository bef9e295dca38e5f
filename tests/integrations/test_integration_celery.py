"""celery_executor against a real in-process Celery worker (in-memory broker and backend)."""

from __future__ import annotations

from typing import Any

import pytest
from celery_app import DONE, INLINE, RAN, reset, wait_for
from fakes import only_method

import airlock
from airlock.integrations.executors.celery import celery_executor

#: how often a result's get() polls the in-memory result backend (Celery's default: 0.5 s)
POLL = 0.01


@pytest.fixture(autouse=True)
def _clean() -> None:
    reset()


def test_flushed_task_runs_on_the_worker(memory_app: Any) -> None:
    with airlock.scope(executor=celery_executor):
        airlock.enqueue(memory_app.airlock_add, 2, 3)
        assert RAN == []
    wait_for(1)
    assert RAN == [("add", (5, False))]


def test_dispatch_options_reach_apply_async(memory_app: Any) -> None:
    with airlock.scope(executor=celery_executor) as scope:
        airlock.enqueue(memory_app.airlock_add, 1, b=1, _dispatch_options={"countdown": 0.1})
    wait_for(1)
    assert RAN == [("add", (2, True))]  # countdown became an eta on the worker
    assert scope.stats.dispatched == 1


def test_apply_async_result_is_the_executors_return(memory_app: Any) -> None:
    intent = airlock.Intent(memory_app.airlock_add, (4, 4))
    result = celery_executor(intent)
    assert result.get(timeout=10, interval=POLL) == 8


def test_discarded_scope_sends_nothing(memory_app: Any) -> None:
    with pytest.raises(RuntimeError), airlock.scope(executor=celery_executor):
        airlock.enqueue(memory_app.airlock_add, 2, 3)
        raise RuntimeError("abort")
    assert not DONE.acquire(timeout=0.3)
    assert RAN == []


def test_plain_callable_is_called_directly() -> None:
    calls: list[int] = []
    with airlock.scope(executor=celery_executor):
        airlock.enqueue(calls.append, 7)
    assert calls == [7]


def test_the_executor_is_an_airlock_executor() -> None:
    assert isinstance(celery_executor, airlock.Executor)


def test_a_signature_goes_through_the_broker_not_inline(memory_app: Any) -> None:
    from celery.result import AsyncResult

    with airlock.scope(executor=celery_executor) as scope:
        airlock.enqueue(memory_app.airlock_add.s(3, 4))
        airlock.enqueue(memory_app.airlock_add.s(1), 1, _dispatch_options={"countdown": 0.1})
    plain = scope.intents[0]
    assert plain.name == "add" and plain.qualified_name == "airlock_tests.add"
    wait_for(2)
    assert sorted(RAN) == [("add", (2, True)), ("add", (7, False))] and INLINE == []
    result = celery_executor(airlock.Intent(memory_app.airlock_add.s(5, 5)))
    assert isinstance(result, AsyncResult) and result.get(timeout=10, interval=POLL) == 10


def test_chains_and_groups_run_on_the_worker(memory_app: Any) -> None:
    from celery import chain, group

    add = memory_app.airlock_add
    chained = celery_executor(airlock.Intent(chain(add.s(1, 2), add.s(10))))
    assert chained.get(timeout=10, interval=POLL) == 13
    grouped = celery_executor(airlock.Intent(group(add.s(1, 1), add.s(2, 2))))
    assert sorted(grouped.get(timeout=10, interval=POLL)) == [2, 4]
    wait_for(4)
    assert sorted(r[1][0] for r in RAN) == [2, 3, 4, 13]


def test_block_tasks_blocks_a_celery_task_by_its_short_name(memory_app: Any) -> None:
    with airlock.scope(airlock.BlockTasks({"add"}), executor=celery_executor) as scope:
        airlock.enqueue(memory_app.airlock_add, 1, 1)
        airlock.enqueue(memory_app.airlock_add.s(2, 2))
    assert scope.stats.dropped == 2 and scope.stats.dispatched == 0
    assert not DONE.acquire(timeout=0.3) and RAN == []


def test_an_object_with_only_delay_goes_through_delay() -> None:
    task = only_method("delay")
    assert celery_executor(airlock.Intent(task, (1,), {"to": "x"})) == "sent by delay"
    assert task.sent == [((1,), {"to": "x"})]
