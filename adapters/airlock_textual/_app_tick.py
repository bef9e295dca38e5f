"""The app's tick: an ``airlock.TickScope`` that asks for a frame when work waits for one.

Rules:
- Whatever reaches the tick while no frame is open — an enqueue from a timer, a worker or a
  thread, an effect running during the flush, a nested scope flushing late, ``post()`` from
  a thread — joins the next frame (the core's rule), and the tick calls ``wake()`` so that
  the next frame comes soon instead of waiting for the next keypress. ``wake`` must be
  thread-safe.
- After shutdown (``close()``), an effect that still arrives — a thread worker or an async
  task that outlived the app, ``enqueue_from_thread`` — is dropped: it is counted in
  ``dropped_after_close`` and the first one is logged as a warning (logger
  ``airlock.textual``); the caller gets no exception (a worker still running while the app
  exits has nobody to report it to). The core refuses such an enqueue through
  ``enqueue_refused``, which this tick overrides; so do the effects of a handler that ends
  after shutdown (``drop_late``).
- A handler cancelled before it returned (its pump stopped: the app shutting down, its
  widget removed; Textual swallows the ``CancelledError``) never hands its effects over:
  they are dropped and counted the same way, with a warning naming the handler
  (``drop_cancelled``), not lost in silence.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from airlock import Scope, ScopeStateError, TickScope

__all__ = ["AppTick"]

logger = logging.getLogger("airlock.textual")


class AppTick(TickScope):
    """A tick that calls ``wake()`` whenever something waits for its next frame."""

    def __init__(self, wake: Callable[[], None], *, owner: str = "the app", **options: Any) -> None:
        super().__init__(**options)
        self.wake = wake
        #: who runs the tick, for the shutdown warning
        self.owner = owner
        #: effects that arrived after close() and were dropped
        self.dropped_after_close = 0
        self.shut_down = False
        self._drop_lock = threading.Lock()  # late effects may come from several threads

    def on_waiting(self) -> None:
        self.wake()

    def close(self) -> None:
        """Close the tick (the core runs one last frame); what arrives later is dropped."""
        try:
            super().close()
        finally:
            self.shut_down = True

    def post(self, task: Any, /, *args: Any, **kwargs: Any) -> None:
        if self.shut_down and callable(task):
            self._drop_after_close(task)
            return
        try:
            super().post(task, *args, **kwargs)
        except ScopeStateError:  # closed while close() was finishing: the same rule
            self._drop_after_close(task)

    def enqueue_refused(self, task: Any, error: BaseException) -> None:
        """An enqueue reached the tick after ``close()`` began (the only time a tick refuses
        one): dropped and counted (see above)."""
        self._drop_after_close(task)

    def drop_late(self, scope: Scope) -> None:
        """A handler that ended after shutdown: its scope's effects are dropped, counted here,
        and the scope is discarded (its observers see them ``discarded``)."""
        for intent in scope.intents:
            self._drop_after_close(intent.task)
        self._discard_handler(scope)

    def drop_cancelled(self, scope: Scope) -> None:
        """A handler cancelled before it returned: its scope's effects are dropped, counted
        in ``dropped_after_close`` and named in a warning, and the scope is discarded (its
        observers see them ``discarded``)."""
        intents = scope.intents
        with self._drop_lock:
            self.dropped_after_close += len(intents)
        if intents:
            logger.warning(
                "airlock: %r was cancelled before it returned (its pump stopped: the app shutting "
                "down, or its widget removed); dropped its %d effect(s) (%s), counted in "
                "app.airlock_dropped_after_shutdown", scope, len(intents),
                ", ".join(intent.name for intent in intents),
            )
        self._discard_handler(scope)

    @staticmethod
    def _discard_handler(scope: Scope) -> None:
        """End a handler's scope without handing its effects over (its observers see them
        ``discarded``)."""
        scope.exit()
        scope.discard()

    def _drop_after_close(self, task: Any) -> None:
        with self._drop_lock:
            self.dropped_after_close += 1
            first = self.dropped_after_close == 1
        if first:
            logger.warning(
                "airlock: %s has shut down; dropped the effect %s enqueued after shutdown "
                "(later ones are dropped too, counted in app.airlock_dropped_after_shutdown)",
                self.owner,
                getattr(task, "__qualname__", None) or repr(task),
            )
