"""End to end: a Celery worker on a real Redis server runs flushed tasks, never discarded ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery_app import INLINE, RAN, make_app, reset, running_worker, wait_for

import airlock
from airlock.integrations.executors.celery import celery_executor


@pytest.fixture(scope="module")
def redis_app(redis_url: str) -> Iterator[Any]:
    with running_worker(make_app(redis_url, redis_url)) as app:
        yield app


def test_flushed_tasks_run_on_the_redis_worker_and_discarded_ones_do_not(redis_app: Any) -> None:
    reset()
    with pytest.raises(ValueError), airlock.scope(executor=celery_executor):
        airlock.enqueue(redis_app.airlock_add, 100, 0)
        raise ValueError("discard this scope")
    with airlock.scope(executor=celery_executor) as scope:
        airlock.enqueue(redis_app.airlock_add, 1, 2)
        airlock.enqueue(redis_app.airlock_add, 3, 4, _dispatch_options={"countdown": 0.1})
    assert scope.stats.dispatched == 2
    wait_for(2, timeout=20)
    # the discarded task was never sent: a probe sent after it comes back, and 100 never ran
    probe = redis_app.airlock_add.apply_async((0, 0))
    assert probe.get(timeout=20) == 0
    assert sorted(RAN) == [("add", (0, False)), ("add", (3, False)), ("add", (7, True))]


def test_a_chain_enqueued_as_a_signature_runs_on_the_redis_worker(redis_app: Any) -> None:
    from celery import chain

    reset()
    add = redis_app.airlock_add
    with airlock.scope(executor=celery_executor) as scope:
        airlock.enqueue(chain(add.s(1, 2), add.s(30)))
        airlock.enqueue(add.s(5, 5))
    wait_for(3, timeout=20)
    assert scope.stats.dispatched == 2
    assert sorted(value for _, (value, _) in RAN) == [3, 10, 33] and INLINE == []
