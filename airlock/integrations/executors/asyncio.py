"""asyncio executor: an effect that returns an awaitable becomes a task on the event loop.

Coroutine functions are scheduled (not awaited) on the running loop, or on the loop given to
``AsyncioExecutor(loop=...)`` when the flush runs in another thread. The executor keeps a
reference to every task until it finishes, so none is garbage-collected mid-flight, and reports
each failure (``on_error``, default: log) and raises them from ``await executor.drain()``.
Plain callables are called directly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from ._reporting import EffectsFailed, FailureLog, OnError

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["AsyncioExecutor", "EffectsFailed", "asyncio_executor"]

class AsyncioExecutor:
    """Executor that schedules awaitables as tasks and keeps track of them."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop | None = None, *, on_error: OnError | None = None
    ) -> None:
        self.loop = loop
        self.failures = FailureLog(on_error)
        self._pending: set[asyncio.Future[Any] | concurrent.futures.Future[Any]] = set()
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Scheduled tasks that have not finished yet."""
        return len(self._pending)

    def __call__(self, intent: Intent) -> Any:
        return self.run_task(intent.task, intent.args, intent.kwargs, lambda: intent)

    def run_task(
        self,
        task: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        get_intent: Callable[[], Intent],
    ) -> Any:
        """``self(intent)`` for a buffered record: the Intent is built only for an awaitable
        (its failure is reported later, with it)."""
        result = task(*args, **kwargs)
        if result is None or not inspect.isawaitable(result):
            return result
        return self._track(result, get_intent())

    def _track(self, result: Any, intent: Intent) -> Any:
        """Schedule an effect's awaitable on the loop and keep it until it finishes."""
        loop = self._target_loop()
        if loop is None:
            if inspect.iscoroutine(result):
                result.close()
            raise RuntimeError(
                f"{intent} returned an awaitable but no event loop is running in this thread; "
                "flush inside the loop (an async handler) or use AsyncioExecutor(loop=the_loop)"
            )
        future = self._schedule(loop, result)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(partial(self._finished, intent))
        return future

    def _target_loop(self) -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return self.loop

    @staticmethod
    def _schedule(
        loop: asyncio.AbstractEventLoop, awaitable: Any
    ) -> asyncio.Future[Any] | concurrent.futures.Future[Any]:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task: asyncio.Future[Any] = asyncio.ensure_future(awaitable)
            return task
        if not isinstance(awaitable, Coroutine):
            awaitable = _await(awaitable)
        return asyncio.run_coroutine_threadsafe(awaitable, loop)

    def _finished(
        self, intent: Intent, future: asyncio.Future[Any] | concurrent.futures.Future[Any]
    ) -> None:
        with self._lock:
            self._pending.discard(future)
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            self.failures.report(intent, exc)

    async def drain(self) -> None:
        """Wait for every scheduled task (including ones scheduled meanwhile); raise failures.

        Raises ``EffectsFailed`` listing every failure reported since the last drain.
        """
        while self._pending:
            with self._lock:
                futures = [
                    f if isinstance(f, asyncio.Future) else asyncio.wrap_future(f)
                    for f in self._pending
                ]
            await asyncio.gather(*futures, return_exceptions=True)
            await asyncio.sleep(0)  # let done-callbacks run
        self.failures.raise_if_any()


async def _await(awaitable: Any) -> Any:
    return await awaitable


#: A shared executor for the common case: flushes that run inside the event loop.
asyncio_executor = AsyncioExecutor()
