"""Bounded thread-pool executor: effects run on worker threads, at most ``max_pending`` at once.

Backpressure: dispatching into a full pool blocks the flush until a slot frees (or, with
``block=False`` or a ``timeout``, raises ``PoolFull`` so the flush reports that intent and its
undispatched rest). A failing effect is reported (``on_error``, default: log) and raised by
``join()``. ``shutdown()`` stops accepting work; ``with pool:`` shuts down on exit.

Effects run without the flushing thread's context: an effect that enqueues must open its own
scope or hand work back with ``tick.post()``.
"""

from __future__ import annotations

import concurrent.futures
import threading
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..._errors import AirlockError
from ._reporting import EffectsFailed, FailureLog, OnError

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["BoundedThreadPoolExecutor", "EffectsFailed", "PoolFull"]


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
        self._futures: set[concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()
        self._closed = False

    @property
    def pending(self) -> int:
        """Effects queued or running."""
        return len(self._futures)

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
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(partial(self._finished, intent))
        return future

    def _finished(self, intent: Intent, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._futures.discard(future)
        self._slots.release()
        if not future.cancelled():
            exc = future.exception()
            if exc is not None:
                self.failures.report(intent, exc)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the effects dispatched so far; raise ``EffectsFailed`` if any failed."""
        with self._lock:
            futures = list(self._futures)
        _, not_done = concurrent.futures.wait(futures, timeout)
        if not_done:
            raise TimeoutError(f"{len(not_done)} effect(s) still running after {timeout} s")
        self.failures.raise_if_any()

    def shutdown(self, wait: bool = True, *, cancel_pending: bool = False) -> None:
        """Stop accepting effects; optionally cancel queued ones; optionally wait for the rest."""
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
