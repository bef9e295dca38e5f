"""huey_executor against MemoryHuey with a real consumer (worker threads)."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import huey
import pytest

import airlock
from airlock.integrations.executors.huey import huey_executor

RAN: list[tuple[int, int | None]] = []
DONE = threading.Semaphore(0)


@pytest.fixture
def app() -> Iterator[Any]:
    queue = huey.MemoryHuey("airlock-tests", immediate=False, utc=True)

    @queue.task(context=True)
    def triple(x: int, task: Any = None) -> int:
        RAN.append((x * 3, task.priority))
        DONE.release()
        return x * 3

    queue.airlock_triple = triple
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    consumer = queue.create_consumer(workers=2, worker_type="thread", periodic=False)
    consumer.start()
    RAN.clear()
    try:
        yield queue
    finally:
        consumer.stop(graceful=True)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def wait_for(count: int) -> None:
    for _ in range(count):
        assert DONE.acquire(timeout=10), f"the consumer ran only {RAN}"


def test_flushed_task_runs_on_the_consumer_with_options(app: Any) -> None:
    with airlock.scope(executor=huey_executor):
        airlock.enqueue(app.airlock_triple, 2)
        airlock.enqueue(app.airlock_triple, 5, _dispatch_options={"priority": 7})
        assert RAN == []
    wait_for(2)
    assert sorted(RAN) == [(6, None), (15, 7)]


def test_eta_or_delay_goes_through_schedule(app: Any) -> None:
    with airlock.scope(executor=huey_executor):
        airlock.enqueue(app.airlock_triple, 1, _dispatch_options={"delay": 3600})
    deadline = time.monotonic() + 5
    while app.scheduled_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)  # the consumer moves a future task from the queue to the schedule
    assert app.scheduled_count() == 1 and app.pending_count() == 0
    assert not DONE.acquire(timeout=0.2) and RAN == []


def test_discarded_scope_enqueues_nothing(app: Any) -> None:
    with pytest.raises(RuntimeError), airlock.scope(executor=huey_executor):
        airlock.enqueue(app.airlock_triple, 2)
        raise RuntimeError("abort")
    assert app.pending_count() == 0 and not DONE.acquire(timeout=0.2)
    assert RAN == []


def test_plain_callable_is_called_directly() -> None:
    calls: list[int] = []
    with airlock.scope(executor=huey_executor):
        airlock.enqueue(calls.append, 1)
    assert calls == [1]


def test_the_executor_is_an_airlock_executor() -> None:
    assert isinstance(huey_executor, airlock.Executor)


def test_a_task_is_recognised_by_what_it_offers_not_its_class(app: Any) -> None:
    class Wrapped:
        """Not a huey TaskWrapper: it only offers the same ``huey`` and ``task_class``."""

        def __init__(self, inner: Any) -> None:
            self.huey = inner.huey
            self.task_class = inner.task_class
            self.schedule = inner.schedule

        def __call__(self, *args: Any) -> None:
            raise AssertionError("must not run inline")

    wrapped = Wrapped(app.airlock_triple)
    with airlock.scope(executor=huey_executor):
        airlock.enqueue(wrapped, 4, _dispatch_options={"priority": 2})
        airlock.enqueue(wrapped, 9, _dispatch_options={"delay": 3600})
    wait_for(1)
    assert RAN == [(12, 2)]
    deadline = time.monotonic() + 5
    while app.scheduled_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert app.scheduled_count() == 1


class OnlyHuey:
    """Not callable: it offers only what huey_executor sends a task through."""

    def __init__(self, inner: Any) -> None:
        self.huey = inner.huey
        self.task_class = inner.task_class


def test_a_task_object_that_is_not_callable_is_enqueued_and_sent(app: Any) -> None:
    with airlock.scope(executor=huey_executor) as s:
        airlock.enqueue(OnlyHuey(app.airlock_triple), 3, _dispatch_options={"priority": 1})
    wait_for(1)
    assert RAN == [(9, 1)] and s.stats.dispatched == 1
