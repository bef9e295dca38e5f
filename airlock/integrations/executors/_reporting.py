"""Failures of effects that finish after their executor returned (tasks, worker threads).

Such a failure cannot abort the flush that dispatched it, so it is reported instead: passed
to ``on_error`` (default: logged on the ``airlock`` logger), kept, and raised by ``drain()`` or
``join()``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..._errors import AirlockError

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["EffectsFailed", "FailureLog", "OnError"]

logger = logging.getLogger("airlock")

OnError = Callable[["Intent", BaseException], None]


def log_failure(intent: Intent, exc: BaseException) -> None:
    """The default ``on_error``: log the failure with its traceback."""
    logger.error("airlock: %s failed after dispatch", intent, exc_info=exc)


class EffectsFailed(AirlockError):
    """Background effects failed. ``.failures`` lists ``(intent, exception)``; cause: the first."""

    def __init__(self, failures: list[tuple[Intent, BaseException]]) -> None:
        first_intent, first_exc = failures[0]
        super().__init__(
            f"{len(failures)} background effect(s) failed; first: {first_intent} raised "
            f"{type(first_exc).__name__}: {first_exc}"
        )
        self.failures = failures


class FailureLog:
    """Thread-safe record of background failures (the newest ``keep`` are kept)."""

    def __init__(self, on_error: OnError | None = None, keep: int = 1000) -> None:
        self.on_error: OnError = on_error if on_error is not None else log_failure
        self._items: deque[tuple[Intent, BaseException]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        #: failures reported since creation (including ones no longer kept)
        self.total = 0

    def report(self, intent: Intent, exc: BaseException) -> None:
        with self._lock:
            self._items.append((intent, exc))
            self.total += 1
        self.on_error(intent, exc)

    def take(self) -> list[tuple[Intent, BaseException]]:
        """Return and forget the kept failures."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
        return items

    def raise_if_any(self) -> None:
        """Raise ``EffectsFailed`` (caused by the first failure) if failures were kept."""
        items = self.take()
        if items:
            raise EffectsFailed(items) from items[0][1]
