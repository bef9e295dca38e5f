"""celery_executor against a real in-process Celery worker (in-memory broker and backend)."""

from __future__ import annotations

from typing import Any

import pytest
from celery_app import DONE, RAN, reset, wait_for

import airlock
from airlock.integrations.executors.celery import celery_executor


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
    assert result.get(timeout=10) == 8


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
