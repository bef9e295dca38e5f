"""BoundedThreadPoolExecutor: effects on worker threads, with backpressure, shutdown, errors."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

import airlock
from airlock.integrations.executors.threadpool import (
    BoundedThreadPoolExecutor,
    EffectsFailed,
    PoolFull,
)


def test_effects_run_on_worker_threads() -> None:
    names: list[str] = []
    with BoundedThreadPoolExecutor(max_workers=2, max_pending=4) as pool:
        with airlock.scope(executor=pool) as scope:
            for _ in range(10):
                airlock.enqueue(lambda: names.append(threading.current_thread().name))
        pool.join(timeout=5)
    assert scope.stats.dispatched == 10 and len(names) == 10
    assert all(name.startswith("airlock") for name in names)


def test_backpressure_blocks_the_flush_until_a_slot_frees() -> None:
    release = threading.Event()
    flushed = threading.Event()
    pool = BoundedThreadPoolExecutor(max_workers=1, max_pending=2)

    def flush_three() -> None:
        with airlock.scope(executor=pool):
            for _ in range(3):
                airlock.enqueue(release.wait, 5)
        flushed.set()

    flusher = threading.Thread(target=flush_three)
    flusher.start()
    assert not flushed.wait(0.2)  # the third dispatch waits for a free slot
    assert pool.pending == 2
    release.set()
    assert flushed.wait(5)
    flusher.join(5)
    pool.join(timeout=5)
    assert pool.pending == 0
    pool.shutdown()


def test_full_pool_without_blocking_raises_and_reports_the_rest() -> None:
    release = threading.Event()
    pool = BoundedThreadPoolExecutor(max_workers=1, max_pending=1, block=False)
    with pytest.raises(PoolFull, match="all 1 slots are busy") as info, airlock.scope(
        executor=pool
    ):
        airlock.enqueue(release.wait, 5)
        airlock.enqueue(release.wait, 5)
        airlock.enqueue(release.wait, 5)
    assert len(info.value.undispatched_intents) == 1  # type: ignore[attr-defined]
    release.set()
    pool.shutdown()


def test_timeout_waits_then_raises() -> None:
    release = threading.Event()
    pool = BoundedThreadPoolExecutor(max_workers=1, max_pending=1, timeout=0.05)
    started = time.monotonic()
    with pytest.raises(PoolFull), airlock.scope(executor=pool):
        airlock.enqueue(release.wait, 5)
        airlock.enqueue(release.wait, 5)
    assert time.monotonic() - started >= 0.05
    release.set()
    pool.shutdown()


def test_failures_are_reported_and_raised_by_join() -> None:
    seen: list[str] = []

    def explode(n: int) -> None:
        raise ValueError(n)

    pool = BoundedThreadPoolExecutor(on_error=lambda intent, exc: seen.append(str(intent)))
    with airlock.scope(executor=pool):
        airlock.enqueue(explode, 1)
        airlock.enqueue(print, end="")
    failed = r"1 background effect\(s\) failed; first: .*explode\(1\) raised ValueError"
    with pytest.raises(EffectsFailed, match=failed):
        pool.join(timeout=5)
    assert len(seen) == 1 and seen[0].endswith("explode(1)") and pool.failures.total == 1
    pool.shutdown()


def test_an_async_effect_fails_on_the_worker_and_is_raised_by_join() -> None:
    """A worker calls the task and cannot await a coroutine: the effect fails, says so, and is
    reported like any failure (it is not counted completed)."""
    sent: list[str] = []

    async def push(text: str) -> None:
        sent.append(text)

    pool = BoundedThreadPoolExecutor()
    with airlock.scope(executor=pool):
        airlock.enqueue(push, "hello")
    with pytest.raises(EffectsFailed, match=r"push.*raised TypeError") as info:
        pool.join(timeout=5)
    assert sent == [] and pool.failures.total == 1
    assert "returned a coroutine" in str(info.value.first_failure)
    pool.shutdown()


def test_shutdown_cancels_pending_and_refuses_new_work() -> None:
    release = threading.Event()
    ran: list[int] = []
    pool = BoundedThreadPoolExecutor(max_workers=1, max_pending=3)
    with airlock.scope(executor=pool):
        airlock.enqueue(release.wait, 5)
        airlock.enqueue(ran.append, 1)
        airlock.enqueue(ran.append, 2)
    threading.Timer(0.1, release.set).start()
    pool.shutdown(wait=True, cancel_pending=True)
    assert ran == [] and pool.pending == 0
    with pytest.raises(RuntimeError, match="shut down"), airlock.scope(executor=pool):
        airlock.enqueue(ran.append, 3)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="max_pending >= max_workers"):
        BoundedThreadPoolExecutor(max_workers=4, max_pending=2)


def test_join_waits_for_the_report_of_each_outcome() -> None:
    """A future is done before its done-callback reports it: ``join()`` waits for the report
    (paused here in ``on_error``), so the failure is told to ``on_error`` and the observers
    and raised by this join, once."""
    dispatched, reporting, release = threading.Event(), threading.Event(), threading.Event()
    reported: list[str] = []

    def on_error(intent: airlock.Intent, exc: BaseException) -> None:
        reporting.set()
        assert release.wait(10)
        reported.append(f"on_error: {exc}")

    class Audit(airlock.Observer):
        def failed(self, intent: airlock.Intent, error: BaseException) -> None:
            reported.append(f"observer: {error}")

    def explode() -> None:
        assert dispatched.wait(10)  # so that its done-callback runs on the worker
        raise ValueError("late report")

    pool = BoundedThreadPoolExecutor(max_workers=1, max_pending=1, on_error=on_error)
    try:
        with airlock.scope(executor=pool, observers=[Audit()]):
            airlock.enqueue(explode)
        dispatched.set()
        assert reporting.wait(10)  # the effect is done; its report waits in on_error
        with pytest.raises(TimeoutError, match=r"^1 effect\(s\) still running or being reported"):
            pool.join(timeout=0.05)
        assert reported == []
        release.set()
        with pytest.raises(EffectsFailed, match="late report"):
            pool.join(timeout=10)
        assert reported == ["on_error: late report", "observer: late report"]
        pool.join(timeout=10)  # raised once: nothing is left for a later join
    finally:
        dispatched.set()
        release.set()
        pool.shutdown()


def test_joins_from_two_reports_at_once_do_not_wait_for_each_other() -> None:
    """Two failures reported at the same time, each ``on_error`` calling ``join()``: a join
    inside a report waits only for reports not begun yet, never for another report that may
    itself be waiting in a join (they waited for each other for good)."""
    both_reporting = threading.Barrier(2, timeout=5)
    joined: list[str] = []

    def on_error(intent: airlock.Intent, exc: BaseException) -> None:
        both_reporting.wait()  # the two reports are under way together
        try:
            pool.join(timeout=5)
            joined.append("returned")
        except EffectsFailed:
            joined.append("raised")

    pool = BoundedThreadPoolExecutor(max_workers=2, on_error=on_error)
    both_running = threading.Barrier(2, timeout=5)  # (one worker each)

    def boom(n: int) -> None:
        both_running.wait()
        raise ValueError(n)

    with airlock.scope(executor=pool):
        airlock.enqueue(boom, 1)
        airlock.enqueue(boom, 2)
    with contextlib.suppress(EffectsFailed):  # (a report's join may have raised them first)
        pool.join(timeout=5)  # (no TimeoutError: neither report waits for good)
    assert len(joined) == 2 and "raised" in joined
    pool.shutdown()
