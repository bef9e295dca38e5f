"""Issue 21 item 5: background work that is cancelled is an outcome, not "dispatched".

The flush counts an effect handed to ``AsyncioExecutor`` or ``BoundedThreadPoolExecutor``
``dispatched``; the executor's own ledger (``outcomes``) says what became of it afterwards. A
failure or a cancellation reaches ``on_error`` and ``Observer.failed`` of the intent's scope,
exactly once each. Real event loops and real thread pools throughout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import airlock
from airlock.integrations.executors.asyncio import AsyncioExecutor, EffectsFailed
from airlock.integrations.executors.threadpool import BoundedThreadPoolExecutor


class Told(airlock.Observer):
    """Records every ``failed`` call."""

    def __init__(self) -> None:
        self.failed_calls: list[tuple[airlock.Intent, BaseException]] = []

    def failed(self, intent: airlock.Intent, error: BaseException) -> None:
        self.failed_calls.append((intent, error))


class Broken(airlock.Observer):
    def failed(self, intent: airlock.Intent, error: BaseException) -> None:
        raise RuntimeError("the overlay crashed")


def recorder() -> tuple[list[tuple[airlock.Intent, BaseException]], Callable[..., None]]:
    seen: list[tuple[airlock.Intent, BaseException]] = []
    return seen, lambda intent, exc: seen.append((intent, exc))


def assert_balanced(outcomes: Any) -> None:
    assert outcomes.scheduled == (
        outcomes.completed + outcomes.failed + outcomes.cancelled + outcomes.pending
    ), outcomes


async def wait_forever() -> None:
    await asyncio.Event().wait()


# -- asyncio -----------------------------------------------------------------------------------


def test_asyncio_run_cancelling_leftover_tasks_reports_them() -> None:
    """Save-on-exit: the main coroutine returns while a save is in flight."""
    seen, on_error = recorder()
    told = Told()
    executor = AsyncioExecutor(on_error=on_error)

    async def main() -> airlock.FlushStats:
        with airlock.scope(executor=executor, observers=[Broken(), told]) as scope:
            airlock.enqueue(wait_forever, _name="save")
        return scope.stats

    stats = asyncio.run(main())
    assert stats.dispatched == 1 and stats.balance_error() is None  # the flush's own ledger
    assert executor.outcomes == type(executor.outcomes)(scheduled=1, cancelled=1)
    assert [(i.name, type(e)) for i, e in seen] == [("save", asyncio.CancelledError)]
    assert [(i, e) for i, e in told.failed_calls] == seen  # the raising observer hid nothing
    assert executor.pending == 0


def test_a_closed_loop_reports_its_unfinished_tasks_when_it_closes() -> None:
    seen, on_error = recorder()
    told = Told()
    executor = AsyncioExecutor(on_error=on_error)

    async def main() -> None:
        with airlock.scope(executor=executor, observers=[told]):
            airlock.enqueue(wait_forever)
            airlock.enqueue(asyncio.sleep, 0)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(main())
    loop.run_until_complete(asyncio.sleep(0))  # the sleep(0) task finishes
    loop.close()  # the other never will: reported now, not at the next look
    assert [str(e) for _, e in seen] == ["its event loop closed before the effect finished"]
    assert told.failed_calls == seen
    assert executor.outcomes == type(executor.outcomes)(scheduled=2, completed=1, cancelled=1)


def test_a_loop_whose_close_cannot_be_watched_is_found_closed_at_the_next_look() -> None:
    """uvloop's loops take no instance attributes; here the wrapper is removed instead."""
    seen, on_error = recorder()
    executor = AsyncioExecutor(on_error=on_error)

    async def main() -> None:
        with airlock.scope(executor=executor):
            airlock.enqueue(wait_forever)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(main())
    del loop.close  # back to the class's close
    loop.close()
    assert seen == []  # nobody told the executor
    assert executor.pending == 0 and len(seen) == 1  # the look found the loop closed
    assert executor.outcomes.cancelled == 1


def test_a_task_on_another_threads_loop_is_reported_when_that_loop_shuts_down() -> None:
    seen, on_error = recorder()
    executor = AsyncioExecutor(on_error=on_error)
    started = threading.Event()
    loop_box: list[asyncio.AbstractEventLoop] = []

    async def serve() -> None:
        loop_box.append(asyncio.get_running_loop())
        started.set()
        await asyncio.sleep(0.05)  # returns: asyncio.run cancels what is left

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    assert started.wait(5)
    executor.loop = loop_box[0]
    with airlock.scope(executor=executor):
        airlock.enqueue(wait_forever)
    thread.join(5)
    assert executor.outcomes.cancelled == 1 and executor.pending == 0
    assert len(seen) == 1 and isinstance(seen[0][1], concurrent.futures.CancelledError)


async def test_drain_raises_failures_but_not_cancellations_alone() -> None:
    seen, on_error = recorder()
    executor = AsyncioExecutor(on_error=on_error)
    with airlock.scope(executor=executor):
        airlock.enqueue(wait_forever)
    for future, _ in executor._ledger.unfinished():
        future.cancel()
    await executor.drain()  # a cancellation alone: reported, not raised
    assert len(seen) == 1 and executor.outcomes.cancelled == 1

    async def explode() -> None:
        raise ValueError("disk full")

    with airlock.scope(executor=executor):
        airlock.enqueue(explode)
        airlock.enqueue(wait_forever)
    await asyncio.sleep(0)
    for future, _ in executor._ledger.unfinished():
        future.cancel()
    with pytest.raises(EffectsFailed, match=r"1 background effect\(s\) failed \(1 more "
                       r"cancelled\); first: explode\(\) raised ValueError: disk full") as info:
        await executor.drain()
    assert [type(e) for _, e in info.value.failures] == [ValueError, asyncio.CancelledError]
    assert isinstance(info.value.__cause__, ValueError)


async def test_the_default_on_error_logs_a_cancellation_as_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    executor = AsyncioExecutor()
    with airlock.scope(executor=executor):
        airlock.enqueue(wait_forever, _name="save")
    for future, _ in executor._ledger.unfinished():
        future.cancel("shutting down")
    with caplog.at_level(logging.WARNING, logger="airlock"):
        await executor.drain()
    assert caplog.records[-1].levelno == logging.WARNING
    assert "save() was cancelled before it finished (CancelledError: shutting down)" in (
        caplog.text
    )


async def test_a_raising_on_error_still_lets_the_observers_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def on_error(intent: airlock.Intent, exc: BaseException) -> None:
        raise OSError("log server down")

    async def explode() -> None:
        raise ValueError("bad")

    told = Told()
    executor = AsyncioExecutor(on_error=on_error)
    with airlock.scope(executor=executor, observers=[told]):
        airlock.enqueue(explode)
    with caplog.at_level(logging.ERROR, logger="airlock"), pytest.raises(EffectsFailed):
        await executor.drain()
    assert len(told.failed_calls) == 1 and "on_error raised" in caplog.text


# -- thread pool -------------------------------------------------------------------------------


def test_shutdown_cancel_pending_reports_each_cancelled_effect() -> None:
    seen, on_error = recorder()
    told = Told()
    release = threading.Event()
    ran: list[int] = []
    pool = BoundedThreadPoolExecutor(max_workers=1, max_pending=4, on_error=on_error)
    with airlock.scope(executor=pool, observers=[Broken(), told]) as scope:
        airlock.enqueue(release.wait, 5)
        airlock.enqueue(ran.append, 1)
        airlock.enqueue(ran.append, 2)
    assert scope.stats.dispatched == 3
    threading.Timer(0.1, release.set).start()
    pool.shutdown(wait=True, cancel_pending=True)
    assert ran == []
    assert [i.args for i, _ in seen] == [(1,), (2,)]
    assert all(isinstance(e, concurrent.futures.CancelledError) for _, e in seen)
    assert told.failed_calls == seen
    assert pool.outcomes == type(pool.outcomes)(scheduled=3, completed=1, cancelled=2)
    pool.join(timeout=5)  # cancellations alone do not raise


def test_pool_outcomes_count_completed_and_failed() -> None:
    def explode() -> None:
        raise KeyError("late")

    seen, on_error = recorder()
    with BoundedThreadPoolExecutor(max_workers=2, on_error=on_error) as pool:
        with airlock.scope(executor=pool):
            for _ in range(3):
                airlock.enqueue(print, end="")
            airlock.enqueue(explode)
        with pytest.raises(EffectsFailed):
            pool.join(timeout=5)
    assert pool.outcomes == type(pool.outcomes)(scheduled=4, completed=3, failed=1)
    assert len(seen) == 1


def test_outcomes_read_while_workers_finish_always_balance() -> None:
    def maybe_fail(n: int) -> None:
        if n % 3 == 0:
            raise ValueError(n)

    pool = BoundedThreadPoolExecutor(max_workers=4, max_pending=8, on_error=lambda i, e: None)
    reads: list[Any] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            reads.append(pool.outcomes)

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        with airlock.scope(executor=pool):
            for n in range(300):
                airlock.enqueue(maybe_fail, n)
        pool.shutdown(wait=True)
    finally:
        stop.set()
        watcher.join(5)
    for outcomes in reads:
        assert_balanced(outcomes)
    assert pool.outcomes == type(pool.outcomes)(scheduled=300, completed=200, failed=100)


# -- property: any mix keeps the identity and reports each failure once ------------------------

KINDS = st.lists(st.sampled_from(["ok", "fail", "cancel", "hang"]), max_size=12)
PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_reports(
    kinds: list[str], outcomes: Any, seen: list[tuple[airlock.Intent, BaseException]],
    told: Told, cancelled_kinds: set[str],
) -> None:
    assert_balanced(outcomes)
    expected = {
        "completed": kinds.count("ok"),
        "failed": kinds.count("fail"),
        "cancelled": sum(kinds.count(kind) for kind in cancelled_kinds),
    }
    assert {k: getattr(outcomes, k) for k in expected} == expected
    assert outcomes.scheduled == len(kinds) and outcomes.pending == 0
    reported = [intent for intent, _ in seen]
    assert len({id(i) for i in reported}) == len(reported)  # each once
    assert sorted(i.args[0] for i in reported) == sorted(
        n for n, kind in enumerate(kinds) if kind != "ok"
    )
    assert told.failed_calls == seen


@PROPERTY
@given(kinds=KINDS)
def test_asyncio_mixes_balance_and_report_each_once(kinds: list[str]) -> None:
    seen, on_error = recorder()
    told = Told()
    executor = AsyncioExecutor(on_error=on_error)

    async def effect(n: int, kind: str) -> None:
        await asyncio.sleep(0)
        if kind == "fail":
            raise ValueError(n)
        if kind == "hang":
            await wait_forever()

    def cancelling(intent: airlock.Intent) -> Any:
        future = executor(intent)
        if intent.args[1] == "cancel":
            future.cancel()
        return future

    async def main() -> None:
        with airlock.scope(executor=cancelling, observers=[told]):
            for n, kind in enumerate(kinds):
                airlock.enqueue(effect, n, kind)
        for _ in range(3):
            await asyncio.sleep(0)
        assert_balanced(executor.outcomes)

    asyncio.run(main())  # cancels the hanging ones
    check_reports(kinds, executor.outcomes, seen, told, {"cancel", "hang"})


@PROPERTY
@given(kinds=KINDS)
def test_thread_pool_mixes_balance_and_report_each_once(kinds: list[str]) -> None:
    seen, on_error = recorder()
    told = Told()
    release = threading.Event()
    pool = BoundedThreadPoolExecutor(max_workers=1, max_pending=16, on_error=on_error)

    def effect(n: int, kind: str) -> None:
        if kind == "fail":
            raise ValueError(n)

    def cancelling(intent: airlock.Intent) -> Any:
        future = pool(intent)
        if intent.args[1] in ("cancel", "hang"):
            future.cancel()  # queued behind the gate: cancelled before it runs
        return future

    with airlock.scope(executor=pool):
        airlock.enqueue(release.wait, 5)  # holds the only worker until the mix is queued
    with airlock.scope(executor=cancelling, observers=[told]):
        for n, kind in enumerate(kinds):
            airlock.enqueue(effect, n, kind)
    release.set()
    pool.shutdown(wait=True)
    outcomes = pool.outcomes
    gate = type(outcomes)(
        scheduled=outcomes.scheduled - 1, completed=outcomes.completed - 1,
        failed=outcomes.failed, cancelled=outcomes.cancelled, pending=outcomes.pending,
    )
    check_reports(kinds, gate, seen, told, {"cancel", "hang"})
