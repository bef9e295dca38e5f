"""Bounded thread-pool executor: effects run on worker threads, at most ``max_pending`` at once.

Backpressure: dispatching into a full pool blocks the flush until a slot frees (or, with
``block=False`` or a ``timeout``, raises ``PoolFull`` so the flush reports that intent and its
undispatched rest). ``outcomes`` counts what became of each effect handed to a worker
(``scheduled == completed + failed + cancelled + pending``). A failing effect, and one cancelled
before it ran (``shutdown(cancel_pending=True)``, ``future.cancel()``), is reported to
``on_error`` (default: log) and to ``Observer.failed`` of its scope; ``join()`` raises the
failures (not the cancellations). ``shutdown()`` stops accepting work; ``with pool:`` shuts down
on exit.

Effects run without the flushing thread's context: an effect that enqueues must open its own
scope or hand work back with ``tick.post()``.
"""

from __future__ import annotations

import concurrent.futures
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..._errors import AirlockError
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
            future = self._pool.submit(intent.task, *intent.args, **intent.kwargs)
        except BaseException:
            self._slots.release()
            raise
        self._ledger.add(future, intent)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: concurrent.futures.Future[Any]) -> None:
        self._slots.release()
        self._ledger.end(future, outcome_of(future))

    def join(self, timeout: float | None = None) -> None:
        """Wait for the effects dispatched so far; raise ``EffectsFailed`` if any failed
        (cancellations were reported, and alone do not raise)."""
        futures = [future for future, _ in self._ledger.unfinished()]
        _, not_done = concurrent.futures.wait(futures, timeout)
        if not_done:
            raise TimeoutError(f"{len(not_done)} effect(s) still running after {timeout} s")
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
