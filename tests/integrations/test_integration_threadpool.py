"""BoundedThreadPoolExecutor: effects on worker threads, with backpressure, shutdown, errors."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

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


# -- joins that could never end (audit: a report starving its own worker, two pools' reports
# -- joining each other, an effect joining its own pool). Each join here has a timeout: on the
# -- old code it raised TimeoutError where it now returns, raises EffectsFailed or UsageError.


def outcome_of_join(pool: BoundedThreadPoolExecutor, timeout: float = 2) -> str:
    try:
        pool.join(timeout=timeout)
    except Exception as error:  # (the test reads which one it was)
        return type(error).__name__
    return "returned"


def test_a_report_joining_does_not_wait_for_work_queued_behind_it_on_its_worker() -> None:
    """The only worker runs a failure's report; an ``on_error`` that joins waited for the
    effect queued behind it, which that very worker would start after the report: never.
    It now waits only for effects already running, and the queued one still runs after."""
    dispatched = threading.Event()
    joined: list[str] = []
    ran: list[str] = []

    def explode() -> None:
        assert dispatched.wait(10)  # the second effect is queued before this one fails
        raise ValueError("first")

    pool = BoundedThreadPoolExecutor(
        max_workers=1, max_pending=2, on_error=lambda i, e: joined.append(outcome_of_join(pool))
    )
    try:
        with airlock.scope(executor=pool):
            airlock.enqueue(explode)
            airlock.enqueue(ran.append, "queued")
        dispatched.set()
        outer = outcome_of_join(pool, timeout=10)
        assert (joined, outer) == (["EffectsFailed"], "returned")  # raised once, by the report
        assert ran == ["queued"]
        assert pool.outcomes == type(pool.outcomes)(scheduled=2, completed=1, failed=1)
    finally:
        dispatched.set()
        pool.shutdown()


def test_reports_of_two_pools_joining_each_other_do_not_wait_for_each_other() -> None:
    """Pool A's report joins pool B while B's report joins A: each waited for the other's
    report to end. A join inside any pool's report no longer waits for a report under way."""
    both_reporting = threading.Barrier(2, timeout=5)
    dispatched, both_joined = threading.Event(), threading.Event()
    joined: dict[str, str] = {}

    def report_joining(name: str, other: list[BoundedThreadPoolExecutor]) -> Any:
        def on_error(intent: airlock.Intent, exc: BaseException) -> None:
            both_reporting.wait()
            joined[name] = outcome_of_join(other[0])
            if len(joined) == 2:
                both_joined.set()
        return on_error

    def explode(name: str) -> None:
        assert dispatched.wait(10)  # (so that each report runs on its pool's worker)
        raise ValueError(name)

    to_a: list[BoundedThreadPoolExecutor] = []
    to_b: list[BoundedThreadPoolExecutor] = []
    a = BoundedThreadPoolExecutor(max_workers=1, on_error=report_joining("a", to_b))
    b = BoundedThreadPoolExecutor(max_workers=1, on_error=report_joining("b", to_a))
    to_a.append(a)
    to_b.append(b)
    try:
        with airlock.scope(executor=a):
            airlock.enqueue(explode, "a")
        with airlock.scope(executor=b):
            airlock.enqueue(explode, "b")
        dispatched.set()
        assert both_joined.wait(10)
        # each report's join raised the other pool's failure, once: nothing is left to raise
        assert joined == {"a": "EffectsFailed", "b": "EffectsFailed"}
        assert outcome_of_join(a, timeout=10) == outcome_of_join(b, timeout=10) == "returned"
        assert a.failures.total == b.failures.total == 1
    finally:
        dispatched.set()
        a.shutdown()
        b.shutdown()


def test_a_report_joining_still_waits_for_effects_already_running() -> None:
    """What a report's join still waits for: an effect running on another worker, and its
    report (which may itself join: it does not wait for the report under way)."""
    slow_started, release = threading.Event(), threading.Event()
    order: list[str] = []

    def on_error(intent: airlock.Intent, exc: BaseException) -> None:
        if str(exc) == "fast":
            assert slow_started.wait(10)
            threading.Timer(0.05, release.set).start()
            order.append("join: " + outcome_of_join(pool, timeout=10))
        else:
            order.append("slow reported: " + outcome_of_join(pool, timeout=10))

    def slow() -> None:
        slow_started.set()
        assert release.wait(10)
        raise ValueError("slow")

    def fast() -> None:
        assert slow_started.wait(10)
        raise ValueError("fast")

    pool = BoundedThreadPoolExecutor(max_workers=2, on_error=on_error)
    try:
        with airlock.scope(executor=pool):
            airlock.enqueue(slow)
            airlock.enqueue(fast)
        with contextlib.suppress(EffectsFailed):
            pool.join(timeout=10)
        assert order[-1].startswith("join: ") and len(order) == 2
        assert "TimeoutError" not in " ".join(order)
    finally:
        release.set()
        pool.shutdown()


def test_an_effect_joining_its_own_pool_is_refused() -> None:
    """An effect's join would wait for that effect itself: ``UsageError`` at the call."""
    dispatched = threading.Event()
    joined: list[str] = []

    def effect() -> None:
        assert dispatched.wait(10)  # (its future is known to the pool by now)
        joined.append(outcome_of_join(pool))

    pool = BoundedThreadPoolExecutor(max_workers=2)
    try:
        with airlock.scope(executor=pool):
            airlock.enqueue(effect)
        dispatched.set()
        pool.join(timeout=10)
        assert joined == ["UsageError"]
    finally:
        dispatched.set()
        pool.shutdown()
