"""AsyncioExecutor: coroutine effects become tracked tasks; failures are reported, not lost."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

import airlock
from airlock.integrations.executors.asyncio import (
    AsyncioExecutor,
    EffectsFailed,
    Outcomes,
    asyncio_executor,
)


async def test_coroutines_are_scheduled_not_awaited_and_tracked() -> None:
    ran: list[str] = []
    gate = asyncio.Event()

    async def notify(name: str) -> None:
        await gate.wait()
        ran.append(name)

    executor = AsyncioExecutor()
    with airlock.scope(executor=executor) as scope:
        airlock.enqueue(notify, "a")
        airlock.enqueue(notify, "b")
        airlock.enqueue(ran.append, "sync")
    assert scope.stats.dispatched == 3
    assert ran == ["sync"] and executor.pending == 2  # scheduled, held by reference
    gate.set()
    await executor.drain()
    assert ran == ["sync", "a", "b"] and executor.pending == 0


async def test_failures_are_logged_and_raised_by_drain(caplog: pytest.LogCaptureFixture) -> None:
    async def explode(n: int) -> None:
        raise ValueError(f"bad {n}")

    async def fine() -> None:
        return None

    executor = AsyncioExecutor()
    with caplog.at_level(logging.ERROR, logger="airlock"), airlock.scope(executor=executor):
        airlock.enqueue(explode, 1)
        airlock.enqueue(fine)
        airlock.enqueue(explode, 2)
    with pytest.raises(EffectsFailed) as info:
        await executor.drain()
    assert [intent.args for intent, _ in info.value.failures] == [(1,), (2,)]
    assert isinstance(info.value.__cause__, ValueError)
    assert "explode(1) failed after dispatch" in caplog.text
    assert "ValueError: bad 2" in caplog.text  # with the traceback
    await executor.drain()  # reported failures are raised once


async def test_custom_on_error_and_effects_scheduled_while_draining() -> None:
    seen: list[str] = []
    executor = AsyncioExecutor(on_error=lambda intent, exc: seen.append(f"{intent}: {exc}"))

    async def second() -> None:
        raise KeyError("late")

    async def first() -> None:
        with airlock.scope(executor=executor):
            airlock.enqueue(second)

    with airlock.scope(executor=executor):
        airlock.enqueue(first)
    with pytest.raises(EffectsFailed):
        await executor.drain()
    assert len(seen) == 1 and seen[0].endswith("second(): 'late'")


def test_flush_from_another_thread_uses_the_given_loop() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        ran: list[str] = []
        done = threading.Event()

        async def effect() -> None:
            ran.append(threading.current_thread().name)
            done.set()

        executor = AsyncioExecutor(loop=loop)
        with airlock.scope(executor=executor):
            airlock.enqueue(effect)
        assert done.wait(5) and ran == [thread.name]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_an_outcome_stays_pending_until_its_report_has_ended() -> None:
    """The ledger ``drain()`` (and the thread pool's ``join()``) read: a failure reported on
    another thread (a loop's, a worker's) counts as pending until its report (``on_error``,
    then the observers) is over, so a drain that finds nothing pending has every failure to
    raise (the old ledger stopped counting it as the report began)."""
    from airlock.integrations.executors._reporting import BackgroundLedger, FailureLog

    reporting, hold = threading.Event(), threading.Event()

    def on_error(intent: airlock.Intent, exc: BaseException) -> None:
        reporting.set()
        assert hold.wait(10)

    ledger = BackgroundLedger(FailureLog(on_error))
    future = object()
    ledger.add(future, airlock.Intent(print, ("x",)))
    ending = threading.Thread(target=ledger.end, args=(future, ValueError("lost signal")))
    ending.start()
    try:
        assert reporting.wait(10)  # the report is under way, held in on_error
        assert ledger.pending == 1  # still pending: a drain would wait
    finally:
        hold.set()
        ending.join(10)
    assert ledger.pending == 0 and ledger.outcomes().failed == 1
    with pytest.raises(EffectsFailed, match="lost signal"):
        ledger.failures.raise_if_any()


def test_no_loop_is_a_clear_error() -> None:
    async def effect() -> None:
        return None

    with pytest.raises(RuntimeError, match="no event loop is running"), airlock.scope(
        executor=AsyncioExecutor()
    ):
        airlock.enqueue(effect)


async def test_tick_with_the_shared_executor() -> None:
    ran: list[int] = []

    async def effect(n: int) -> None:
        ran.append(n)

    tick = airlock.tick_scope(executor=asyncio_executor)
    for frame in range(3):
        with tick:
            airlock.enqueue(effect, frame)
    await asyncio_executor.drain()
    assert ran == [0, 1, 2] and tick.frame == 3


async def test_records_reach_the_executor_and_an_async_failure_keeps_its_intent() -> None:
    """Issue 15: a tick under AsyncioExecutor runs on records (``run_task``); the Intent is
    built only for the awaitable, and it is the one the tick shows."""

    async def explode() -> None:
        raise ValueError("later")

    reported: list[airlock.Intent] = []
    executor = AsyncioExecutor(on_error=lambda intent, exc: reported.append(intent))
    tick = airlock.tick_scope(executor=executor)
    log: list[int] = []
    with tick:
        airlock.enqueue(log.append, 1)
        airlock.enqueue(explode)
    assert type(tick._buffer[0]) is tuple  # the sync effect's record was never materialized
    with pytest.raises(EffectsFailed):
        await executor.drain()
    assert log == [1] and reported == [tick.intents[1]]


def test_a_task_that_fails_in_its_loops_last_iteration_is_reported_once() -> None:
    """``loop.run_until_complete(main()); loop.close()``: the effect's task failed in the
    loop's last iteration, so its done-callback never ran. It is still reported, once, as the
    failure it was (``on_error``, observers' ``failed``), not left pending."""
    reported: list[tuple[str, str]] = []

    class Heard(airlock.Observer):
        def failed(self, intent: airlock.Intent, error: BaseException) -> None:
            reported.append(("observer", repr(error)))

    async def fail() -> None:
        raise ConnectionError("gateway down")

    executor = AsyncioExecutor(on_error=lambda intent, error: reported.append(
        ("on_error", repr(error))))

    async def main() -> None:
        with airlock.scope(executor=executor, observers=[Heard()]):
            airlock.enqueue(fail)

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert executor.pending == 0
    outcomes = executor.outcomes
    assert (outcomes.scheduled, outcomes.failed, outcomes.cancelled) == (1, 1, 0)
    assert reported == [("on_error", "ConnectionError('gateway down')"),
                        ("observer", "ConnectionError('gateway down')")]


async def test_effects_returning_one_shared_task_are_each_counted_once() -> None:
    """Review: two effects returning the same task ("ensure connected") were one ledger
    entry counted scheduled twice, so ``outcomes`` never balanced."""
    executor = AsyncioExecutor()
    connected = asyncio.Event()

    async def connect() -> None:
        await connected.wait()

    shared = asyncio.ensure_future(connect())
    tick = airlock.tick_scope(executor=executor)
    for _ in range(2):
        with tick:
            airlock.enqueue(lambda: shared)
    assert executor.outcomes == Outcomes(2, 0, 0, 0, 2)
    connected.set()
    await executor.drain()
    assert executor.outcomes == Outcomes(2, 2, 0, 0, 0)
    tick.close()


async def test_a_drain_cancelled_by_its_timeout_leaves_the_effects_running() -> None:
    """Review: ``wait_for(executor.drain(), timeout)`` cancelled the effects it waited for
    (``gather`` cancels its children)."""
    executor = AsyncioExecutor()
    release, uploaded = asyncio.Event(), []

    async def upload(n: int) -> None:
        await release.wait()
        uploaded.append(n)

    with airlock.scope(executor=executor):
        airlock.enqueue(upload, 1)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(executor.drain(), timeout=0.01)
    release.set()
    await executor.drain()
    assert uploaded == [1] and executor.outcomes == Outcomes(1, 1, 0, 0, 0)


def test_a_coroutine_for_a_closed_loop_is_closed_not_left_unawaited() -> None:
    """Review: scheduling on a closed loop failed the effect but left its coroutine
    unawaited (Python warned "never awaited" at collection)."""
    closed = asyncio.new_event_loop()
    closed.close()
    executor = AsyncioExecutor(loop=closed)
    made: list[object] = []

    async def job() -> None:
        pass

    def effect() -> object:
        made.append(coro := job())
        return coro

    with pytest.raises(RuntimeError, match="closed"), airlock.scope(executor=executor):
        airlock.enqueue(effect)
    (coro,) = made
    assert coro.cr_frame is None  # type: ignore[attr-defined]  # closed
