"""What becomes of effects that finish after their executor returned (tasks, worker threads).

The flush that handed such an effect over counted it ``dispatched``; from then on the
executor keeps the account (``BackgroundLedger``, read as ``executor.outcomes``): each piece of
work is scheduled once and ends once, as completed, failed or cancelled, so
``scheduled == completed + failed + cancelled + pending`` at every instant.

A failure or a cancellation cannot abort the flush that dispatched it, so it is reported
instead (``FailureLog``): passed to ``on_error`` (default: logged on the ``airlock`` logger),
told to ``Observer.failed`` of the intent's scope, and kept. ``drain()`` / ``join()`` raise
``EffectsFailed`` when a kept one is a failure; cancellations alone never make them raise, so
a shutdown that cancels work stays clean (the cancellations were reported all the same).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..._errors import AirlockError
from ..._observe import report_background_failure

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["BackgroundLedger", "EffectsFailed", "FailureLog", "OnError", "Outcomes"]

logger = logging.getLogger("airlock")

OnError = Callable[["Intent", BaseException], None]

#: what a cancelled task (asyncio) or future (threads, another loop's task) raises
CANCELLED = (asyncio.CancelledError, concurrent.futures.CancelledError)


def is_cancellation(exc: BaseException) -> bool:
    return isinstance(exc, CANCELLED)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def log_failure(intent: Intent, exc: BaseException) -> None:
    """The default ``on_error``: log a failure with its traceback, a cancellation as a
    warning (its traceback only says where the task was waiting)."""
    if is_cancellation(exc):
        logger.warning("airlock: %s was cancelled before it finished (%s)", intent, describe(exc))
    else:
        logger.error("airlock: %s failed after dispatch", intent, exc_info=exc)


def outcome_of(future: Any) -> BaseException | None:
    """A finished future's error (a ``CancelledError`` when it was cancelled), else None."""
    if future.cancelled():
        try:
            future.result()
        except CANCELLED as exc:  # carries the cancel message, where there is one
            return exc
    return future.exception()  # type: ignore[no-any-return]


class EffectsFailed(AirlockError):
    """Background effects failed. ``.failures`` lists ``(intent, exception)`` of each failure
    and cancellation reported since the last drain/join; cause: the first failure."""

    def __init__(self, failures: list[tuple[Intent, BaseException]]) -> None:
        failed = [item for item in failures if not is_cancellation(item[1])] or failures
        first_intent, first_exc = failed[0]
        cancelled = len(failures) - len(failed)
        also = f" ({cancelled} more cancelled)" if cancelled else ""
        super().__init__(
            f"{len(failed)} background effect(s) failed{also}; first: {first_intent} raised "
            f"{describe(first_exc)}"
        )
        self.failures = failures
        self.first_failure = first_exc


class FailureLog:
    """Thread-safe record of background failures and cancellations (the newest ``keep``)."""

    def __init__(self, on_error: OnError | None = None, keep: int = 1000) -> None:
        self.on_error: OnError = on_error if on_error is not None else log_failure
        self._items: deque[tuple[Intent, BaseException]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        #: failures and cancellations reported since creation (including ones no longer kept)
        self.total = 0

    def report(self, intent: Intent, exc: BaseException) -> None:
        """Keep it, pass it to ``on_error`` and tell the observers of the intent's scope (all
        of them, even when ``on_error`` raises)."""
        with self._lock:
            self._items.append((intent, exc))
            self.total += 1
        try:
            self.on_error(intent, exc)
        except Exception:  # on_error runs in a done-callback: nobody would see it raise
            logger.exception("airlock: on_error raised while reporting %s", intent)
        finally:
            report_background_failure(intent, exc)

    def take(self) -> list[tuple[Intent, BaseException]]:
        """Return and forget the kept failures and cancellations."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items

    def raise_if_any(self) -> None:
        """Forget what is kept; raise ``EffectsFailed`` (caused by the first failure) if it
        holds a failure. Cancellations alone were reported and do not raise."""
        items = self.take()
        if any(not is_cancellation(exc) for _, exc in items):
            error = EffectsFailed(items)
            raise error from error.first_failure


@dataclass(frozen=True)
class Outcomes:
    """What became of an executor's background work, read at one instant:
    ``scheduled == completed + failed + cancelled + pending``."""

    #: pieces of work handed to the event loop or the pool
    scheduled: int = 0
    #: finished without error
    completed: int = 0
    #: raised (reported to ``on_error`` and the observers)
    failed: int = 0
    #: cancelled before finishing: ``shutdown(cancel_pending=True)``, ``future.cancel()``,
    #: an event loop that shut down or closed (reported like a failure, with the
    #: ``CancelledError``)
    cancelled: int = 0
    #: not finished yet
    pending: int = 0


class BackgroundLedger:
    """An executor's account of its background work (thread-safe): each future is added once
    and ended once; ending reports a failure or cancellation to ``failures``."""

    def __init__(self, failures: FailureLog) -> None:
        self.failures = failures
        self._lock = threading.Lock()
        #: unfinished work: future -> (its intent, the event loop it runs on, if any)
        self._pending: dict[Hashable, tuple[Intent, Any]] = {}
        self._ending: set[Hashable] = set()  # pending, their report under way
        self._scheduled = self._completed = self._failed = self._cancelled = 0

    def add(self, future: Hashable, intent: Intent, loop: Any = None) -> None:
        """Count ``future`` scheduled (before its done-callback can run)."""
        with self._lock:
            self._pending[future] = (intent, loop)
            self._scheduled += 1

    def end(self, future: Hashable, error: BaseException | None) -> None:
        """Report ``future``'s error, then count how it ended: it stays pending until its
        report is over (a ``drain()``/``join()`` that sees nothing pending has every failure
        to raise). A second end of it is ignored (a closed loop's sweep and a late
        done-callback may both see it)."""
        with self._lock:
            entry = self._pending.get(future)
            if entry is None or future in self._ending:
                return
            self._ending.add(future)
        try:
            if error is not None:
                self.failures.report(entry[0], error)
        finally:
            with self._lock:
                self._ending.discard(future)
                del self._pending[future]
                if error is None:
                    self._completed += 1
                elif is_cancellation(error):
                    self._cancelled += 1
                else:
                    self._failed += 1

    def unfinished(self) -> list[tuple[Any, Any]]:
        """``(future, loop)`` of the work not finished yet."""
        with self._lock:
            return [(future, loop) for future, (_, loop) in self._pending.items()]

    @property
    def pending(self) -> int:
        return len(self._pending)

    def outcomes(self) -> Outcomes:
        with self._lock:
            return Outcomes(
                self._scheduled, self._completed, self._failed, self._cancelled,
                len(self._pending),
            )
