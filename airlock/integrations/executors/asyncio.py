"""asyncio executor: an effect that returns an awaitable becomes a task on the event loop.

Coroutine functions are scheduled (not awaited) on the running loop, or on the loop given to
``AsyncioExecutor(loop=...)`` when the flush runs in another thread. The executor keeps a
reference to every task until it finishes, so none is garbage-collected mid-flight.

``outcomes`` counts what became of each task (``scheduled == completed + failed + cancelled +
pending``). A task that fails, or is cancelled (``task.cancel()``, ``asyncio.run()`` cancelling
what is left when its main coroutine returns, or its loop closed with the task unfinished), is
reported to ``on_error`` (default: log) and to ``Observer.failed`` of its scope;
``await executor.drain()`` raises the failures (not the cancellations); a drain cancelled (a
``wait_for`` timeout) leaves the tasks running. An effect that returns a future or a task
(one that other effects may return too: "ensure connected") gets a task of its own that
awaits it, so that each effect is counted once. Plain callables are called directly, and
counted by the flush, not here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

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

__all__ = ["AsyncioExecutor", "EffectsFailed", "Outcomes", "asyncio_executor"]

#: loop -> the executors with work on it, told when its ``close()`` ran (see ``_watch_close``)
_WATCHERS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakSet[AsyncioExecutor]
] = weakref.WeakKeyDictionary()
_WATCH_LOCK = threading.Lock()


class AsyncioExecutor:
    """Executor that schedules awaitables as tasks and keeps track of them."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop | None = None, *, on_error: OnError | None = None
    ) -> None:
        self.loop = loop
        self.failures = FailureLog(on_error)
        self._ledger = BackgroundLedger(self.failures)

    @property
    def pending(self) -> int:
        """Scheduled tasks that have not finished yet."""
        self._end_stranded()
        return self._ledger.pending

    @property
    def outcomes(self) -> Outcomes:
        """What became of the scheduled tasks, read at one instant."""
        self._end_stranded()
        return self._ledger.outcomes()

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
        _watch_close(loop, self)
        self._ledger.add(future, intent, loop)
        future.add_done_callback(self._finished)
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
        if not isinstance(awaitable, Coroutine):  # a future or task (maybe one that another
            awaitable = _await(awaitable)  # effect returned too): each effect its own task
        if running is loop:
            task: asyncio.Future[Any] = asyncio.ensure_future(awaitable)
            return task
        try:
            return asyncio.run_coroutine_threadsafe(awaitable, loop)
        except BaseException:  # (a closed loop): the coroutine never runs, unawaited
            awaitable.close()
            raise

    def _finished(self, future: asyncio.Future[Any] | concurrent.futures.Future[Any]) -> None:
        self._ledger.end(future, outcome_of(future))

    def _end_stranded(self) -> None:
        """End the tasks whose loop closed before their done-callback ran (none will run
        now): as they finished (a task that finished in the loop's last iteration), else as
        cancelled."""
        for future, loop in self._ledger.unfinished():
            if loop.is_closed():
                self._ledger.end(future, outcome_of(future) if future.done() else (
                    asyncio.CancelledError("its event loop closed before the effect finished")
                ))

    async def drain(self) -> None:
        """Wait for every scheduled task (including ones scheduled meanwhile); raise failures.

        Raises ``EffectsFailed`` listing every failure and cancellation reported since the
        last drain, if one of them is a failure.
        """
        while self.pending:
            futures = [
                f if isinstance(f, asyncio.Future) else asyncio.wrap_future(f)
                for f, _ in self._ledger.unfinished()
            ]
            if futures:  # (``wait``, not ``gather``: a cancelled drain leaves them running)
                await asyncio.wait(futures)
            await asyncio.sleep(0)  # let done-callbacks run
        self.failures.raise_if_any()


def _watch_close(loop: asyncio.AbstractEventLoop, executor: AsyncioExecutor) -> None:
    """Have ``loop.close()`` tell ``executor`` (so tasks it strands are reported at once).

    The loop's ``close`` is wrapped once, on the instance; a loop whose methods cannot be
    replaced (uvloop) is found closed at the next read of ``pending``, ``outcomes`` or
    ``drain()``.
    """
    with _WATCH_LOCK:  # flushes on two threads may schedule on one loop
        try:
            watchers = _WATCHERS.get(loop)
        except TypeError:  # a loop that takes no weak reference: found at the next look
            return
        if watchers is None:
            watchers = _WATCHERS[loop] = weakref.WeakSet()
            with contextlib.suppress(AttributeError):  # a loop without instance attributes
                loop.close = _reporting_close(loop)  # type: ignore[method-assign]
        watchers.add(executor)


def _reporting_close(loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    close = loop.close

    def close_and_report() -> None:
        close()
        for watcher in list(_WATCHERS.get(loop, ())):
            watcher._end_stranded()

    return close_and_report


async def _await(awaitable: Any) -> Any:
    return await awaitable


#: A shared executor for the common case: flushes that run inside the event loop.
asyncio_executor = AsyncioExecutor()
