"""Bounded thread-pool executor: effects run on worker threads, at most ``max_pending`` at once.

Backpressure: dispatching into a full pool blocks the flush until a slot frees (or, with
``block=False`` or a ``timeout``, raises ``PoolFull`` so the flush reports that intent and its
undispatched rest). ``outcomes`` counts what became of each effect handed to a worker
(``scheduled == completed + failed + cancelled + pending``). A failing effect, and one cancelled
before it ran (``shutdown(cancel_pending=True)``, ``future.cancel()``), is reported to
``on_error`` (default: log) and to ``Observer.failed`` of its scope; ``join()`` raises the
failures (not the cancellations). ``join()`` returns once the outcome of every effect dispatched
before it was reported (its done-callback ran to the end: ``on_error`` and the observers
included), so a failure is raised by the first ``join()`` after its dispatch, never a later
one — except a ``join()`` inside a report, which never waits for what could be waiting for it
(see ``join()``), and one inside an effect of the pool, refused. ``shutdown()`` stops accepting
work; ``with pool:`` shuts down on exit.

Effects run without the flushing thread's context: an effect that enqueues must open its own
scope or hand work back with ``tick.post()``.
"""

from __future__ import annotations

import concurrent.futures
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..._errors import AirlockError, UsageError
from ..._executor import sync_executor
from ._reporting import (
    BackgroundLedger,
    EffectsFailed,
    FailureLog,
    OnError,
    Outcomes,
    outcome_of,
)

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["BoundedThreadPoolExecutor", "EffectsFailed", "Outcomes", "PoolFull"]


class PoolFull(AirlockError):
    """The pool had no free slot in time; the intent was not dispatched."""


class _ThisThread(threading.local):
    """What the current thread is doing for the pools (each thread sees its own values)."""

    #: reports (done-callbacks) of any pool under way on this thread
    reports = 0
    #: the pool whose effect this thread is running, if any
    effect_of: BoundedThreadPoolExecutor | None = None


_THIS_THREAD = _ThisThread()


class BoundedThreadPoolExecutor:
    """Executor running effects on ``max_workers`` threads with ``max_pending`` queue slots."""

    def __init__(
        self,
        max_workers: int = 4,
        max_pending: int = 64,
        *,
        block: bool = True,
        timeout: float | None = None,
        on_error: OnError | None = None,
        thread_name_prefix: str = "airlock",
    ) -> None:
        if max_workers < 1 or max_pending < max_workers:
            raise ValueError(
                f"need max_workers >= 1 and max_pending >= max_workers, got "
                f"max_workers={max_workers}, max_pending={max_pending}"
            )
        self.max_pending = max_pending
        self.block = block
        self.timeout = timeout
        self.failures = FailureLog(on_error)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers, thread_name_prefix)
        self._slots = threading.BoundedSemaphore(max_pending)
        self._ledger = BackgroundLedger(self.failures)
        self._closed = False
        #: notified as each done-callback ends
        self._reported = threading.Condition()
        #: futures whose done-callback has not ended -> whether it has begun
        self._reporting: dict[concurrent.futures.Future[Any], bool] = {}

    @property
    def pending(self) -> int:
        """Effects queued or running."""
        return self._ledger.pending

    @property
    def outcomes(self) -> Outcomes:
        """What became of the effects handed to the workers, read at one instant."""
        return self._ledger.outcomes()

    def __call__(self, intent: Intent) -> concurrent.futures.Future[Any]:
        if self._closed:
            raise RuntimeError(
                f"cannot dispatch {intent}: the pool was shut down; create a new one"
            )
        acquired = (
            self._slots.acquire(timeout=self.timeout) if self.block
            else self._slots.acquire(blocking=False)
        )
        if not acquired:
            raise PoolFull(
                f"cannot dispatch {intent}: all {self.max_pending} slots are busy; raise "
                "max_pending, dispatch fewer effects per flush, or use block=True without timeout"
            )
        try:
            future = self._pool.submit(self._run, intent)
        except BaseException:
            self._slots.release()
            raise
        with self._reported:
            self._reporting[future] = False
        self._ledger.add(future, intent)
        future.add_done_callback(self._finished)
        return future

    def _run(self, intent: Intent) -> Any:
        """A worker runs an effect (an ``async def`` one fails), marked as this pool's."""
        _THIS_THREAD.effect_of = self
        try:
            return sync_executor(intent)
        finally:
            _THIS_THREAD.effect_of = None

    def _finished(self, future: concurrent.futures.Future[Any]) -> None:
        """The done-callback: free the slot, count and report the outcome, then tell
        ``join()`` (a future is done before its callbacks run: ``join()`` waits for this)."""
        with self._reported:
            self._reporting[future] = True
        _THIS_THREAD.reports += 1
        try:
            self._slots.release()
            self._ledger.end(future, outcome_of(future))
        finally:
            _THIS_THREAD.reports -= 1
            with self._reported:
                del self._reporting[future]
                self._reported.notify_all()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the effects dispatched so far and the report of each outcome; raise
        ``EffectsFailed`` if any failed (cancellations were reported, and alone do not raise).

        Inside a report (an ``on_error`` or an observer of any pool's failure) it waits only
        for the effects already running and their reports: not for a report already begun (the
        caller's own, or another that may be waiting in a ``join()`` of its own, of this pool or
        another), nor for an effect still queued (it may need the very worker this report runs
        on). Those are left waiting, and the next ``join()`` waits for them and raises their
        failures. Inside an effect of this pool it raises ``UsageError``: it would wait for
        that effect itself."""
        if _THIS_THREAD.effect_of is self:
            raise UsageError(
                "join() was called from an effect running on this pool: it would wait for that "
                "effect itself; call join() outside the pool's effects (where you flush)"
            )
        with self._reported:
            if _THIS_THREAD.reports:
                waiting = {
                    future for future, begun in self._reporting.items()
                    if not begun and (future.running() or future.done())
                }
            else:
                waiting = set(self._reporting)

            def all_reported() -> bool:
                waiting.intersection_update(self._reporting)
                return not waiting

            if not self._reported.wait_for(all_reported, timeout):
                raise TimeoutError(
                    f"{len(waiting)} effect(s) still running or being reported after "
                    f"{timeout} s"
                )
        self.failures.raise_if_any()

    def shutdown(self, wait: bool = True, *, cancel_pending: bool = False) -> None:
        """Stop accepting effects; optionally cancel queued ones (each is reported cancelled);
        optionally wait for the rest."""
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=cancel_pending)

    def __enter__(self) -> BoundedThreadPoolExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown(wait=True)
