"""End to end: a Celery worker on a real Redis server runs flushed tasks, never discarded ones."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery_app import INLINE, RAN, make_app, redis_server, reset, running_worker, wait_for

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


# -- issue 21 item 11: the broker is down ------------------------------------------------------


@pytest.fixture
def stopped_redis_app() -> Iterator[Any]:
    """An app whose Redis broker answered once, then was stopped (connections are refused)."""
    with redis_server() as url:
        app = make_app(url, "cache+memory://")
        app.airlock_add.apply_async((0, 0), retry=False)  # connected: the server answered
    yield app


def flush_against(
    app: Any, options: dict[str, Any], count: int
) -> tuple[airlock.FlushStats, float]:
    """Flush ``count`` publishes with ``options`` under errors="continue": stats, seconds."""
    started = time.monotonic()
    with airlock.scope(executor=celery_executor, errors="continue") as scope:
        for n in range(count):
            airlock.enqueue(app.airlock_add, n, n, _dispatch_options=options)
    return scope.stats, time.monotonic() - started


def test_with_the_broker_down_each_publish_fails_and_is_counted_failed(
    stopped_redis_app: Any,
) -> None:
    """The documented bound, ``retry_policy={"max_retries": 0}``, makes each failed publish
    return at once; the default retries first (about 0.6 s each, see docs/integrations/celery.md).
    Either way every publish is counted failed, none is lost."""
    from kombu.exceptions import OperationalError

    fast, fast_seconds = flush_against(stopped_redis_app, {"retry_policy": {"max_retries": 0}}, 5)
    default, default_seconds = flush_against(stopped_redis_app, {}, 2)
    for stats in (fast, default):
        assert stats.dispatched == 0 and stats.balance_error() is None
        assert all(isinstance(exc, OperationalError) for _, exc in stats.failures)
    assert (fast.failed, default.failed) == (5, 2)
    assert fast_seconds < 10 and default_seconds < 10  # generous: no hang


def test_with_the_broker_down_errors_raise_stops_at_the_first_publish(
    stopped_redis_app: Any,
) -> None:
    from kombu.exceptions import OperationalError

    bounded = {"retry_policy": {"max_retries": 0}}
    with pytest.raises(OperationalError) as info, airlock.scope(
        executor=celery_executor
    ) as scope:
        for n in range(3):
            airlock.enqueue(stopped_redis_app.airlock_add, n, n, _dispatch_options=bounded)
    assert (scope.stats.failed, scope.stats.undispatched) == (1, 2)
    assert len(info.value.undispatched_intents) == 2  # type: ignore[attr-defined]
