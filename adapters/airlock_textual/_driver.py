"""When a Textual tick starts and ends.

A tick is one *burst* of message handling across all of the app's pumps (App, Screens,
Widgets): it opens when a handler starts while no tick is open, and it ends when no handler
is running and none has started for ``settle_hops`` turns of the event loop — that is, when
the app's message queues have gone idle. One keypress or click (the Key/Click event, the
widget's handler, the messages it posts and the handlers that bubble them up) is one tick,
whatever tasks those handlers run in.

Why not one compositor frame: Textual's screen-update timer is paused while nothing is
dirty and fires on a clock, so it could split one click's handlers across two flushes or
never fire for a handler that changes no pixels. A burst is what the user did; refreshes
inside it are still coalesced by Textual into one screen update.

Other rules:
- A tick that stays open longer than ``max_tick_ms`` (default 500 ms, Textual's own threshold
  for a slow handler; e.g. a handler awaiting the network) is closed anyway; handlers still
  running put their later effects into the next tick. ``None`` disables this.
- Work that arrives while no tick is open (timers, workers, effects of the flush, threads via
  ``post``) opens a tick of its own at once (``AppTick.wake``).
- Frames are opened and closed in a private ``contextvars.Context``, so the tick never becomes
  its own parent and no pump's context is changed.
- A thread worker's work runs with the tick as its airlock target (``thread_work``, see
  ``_threads.py``); after ``close()`` the tick drops what still arrives (``_app_tick.py``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable, Iterable
from contextvars import Token
from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from airlock import Observer

# Core internal (the current target), used until the public extension API of the pipeline
# issue exists: the driver makes the tick current around handlers and pump loops.
from airlock._context import current_target

from ._app_tick import AppTick
from ._handler_scope import HandlerScope
from ._threads import carry_target

__all__ = ["TickDriver"]

logger = logging.getLogger("airlock.textual")

Handle = tuple[HandlerScope, Token[Any]]


class TickDriver:
    """Opens and closes the app's tick around bursts of handlers (see the module docstring)."""

    def __init__(
        self,
        *,
        settle_hops: int = 3,
        max_tick_ms: float | None = 500.0,
        on_flush_error: Callable[[BaseException], None] | None = None,
        observers: Iterable[Observer] = (),
        handler_observers: Iterable[Observer] = (),
        owner: str = "the app",
        **tick_options: Any,
    ) -> None:
        if settle_hops < 1:
            raise ValueError(f"settle_hops must be >= 1, got {settle_hops!r}")
        self.observers = tuple(observers)
        #: observers of each handler's scope (to see enqueues, in-handler coalescing and the
        #: effects of a raising handler); none keeps a handler's scope on the fast path
        self.handler_observers = tuple(handler_observers)
        self.tick = AppTick(self.wake, owner=owner, observers=self.observers, **tick_options)
        self.settle_hops = settle_hops
        self.max_tick_s = None if max_tick_ms is None else max_tick_ms / 1000
        self.on_flush_error = on_flush_error
        #: handlers running now, across all pumps
        self.busy = 0
        self.closed = False
        self._generation = 0
        self._frame_context = contextvars.Context()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wake_pending = False
        self._settling = False
        self._deadline: asyncio.TimerHandle | None = None

    # -- the dispatch listener (called by the hook around every handler) -------------------

    def begin(self, pump: MessagePump, message: Message) -> Handle | None:
        """A handler starts: open a tick if none is open, and a scope for this handler."""
        if self.closed:
            return None
        if self._loop is None:
            self.attach(asyncio.get_running_loop())
        self.busy += 1
        self._generation += 1
        tick = self.tick
        if not tick.is_active:
            self._open_frame()
        scope = HandlerScope(tick, pump, message.handler_name, self.handler_observers)
        token = current_target.set(tick)
        scope.__enter__()  # the with-protocol: the one lifecycle every scope keeps
        return scope, token

    def end(self, handle: Handle | None, error: BaseException | None) -> None:
        """A handler ends: its scope hands its effects to the tick (or discards them)."""
        if handle is None:
            return
        scope, token = handle
        try:
            if error is None:
                scope.__exit__(None, None, None)
            else:
                scope.__exit__(type(error), error, error.__traceback__)
        finally:
            current_target.reset(token)
            self.busy -= 1
            if self.busy == 0:
                self._schedule_settle()

    def loop_started(self) -> Token[Any] | None:
        """A pump's message loop starts: code it runs between messages enqueues to the tick."""
        return None if self.closed else current_target.set(self.tick)

    def loop_ended(self, token: Token[Any] | None) -> None:
        if token is not None:
            current_target.reset(token)

    def thread_work(self, work: Any) -> Any:
        """A thread worker's work, run with the tick as its airlock target (``_threads.py``)."""
        return carry_target(work, self.tick)

    # -- loop plumbing -----------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run ticks on ``loop`` (the app's loop; the thread calling this is its thread)."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        if self.tick.pending:
            self.wake()

    def wake(self) -> None:
        """Ask for a tick soon (thread-safe); called when work waits for the next frame."""
        loop = self._loop
        if loop is None or self._wake_pending or self.closed:
            return
        self._wake_pending = True
        if threading.get_ident() == self._loop_thread:
            loop.call_soon(self._on_wake)
        else:
            loop.call_soon_threadsafe(self._on_wake)

    def _on_wake(self) -> None:
        self._wake_pending = False
        if self.closed:
            return
        if not self.tick.is_active:
            self._open_frame()
        if self.busy == 0:
            self._schedule_settle()

    def _schedule_settle(self) -> None:
        """Start the one settle chain (if none runs): it closes the tick once the app is idle."""
        if self._settling or self._loop is None:
            return
        self._settling = True
        self._loop.call_soon(self._settle, self._generation, self.settle_hops)

    def _settle(self, generation: int, hops: int) -> None:
        loop = self._loop
        if self.busy or not self.tick.is_active or loop is None:
            self._settling = False  # the next handler to end starts a new chain
            return
        if generation != self._generation:  # a handler ran meanwhile: count again
            loop.call_soon(self._settle, self._generation, self.settle_hops)
        elif hops > 1:
            loop.call_soon(self._settle, generation, hops - 1)
        else:
            self._settling = False
            self._close_frame()

    def _overdue(self) -> None:
        self._deadline = None
        if self.tick.is_active:
            logger.debug("airlock: tick %d overran max_tick_ms; closing it", self.tick.frame)
            self._close_frame()

    # -- frames ------------------------------------------------------------------------------

    def _open_frame(self) -> None:
        self._generation += 1
        self._frame_context.run(self.tick.__enter__)
        if self.max_tick_s is not None and self._loop is not None:
            self._deadline = self._loop.call_later(self.max_tick_s, self._overdue)

    def _close_frame(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        try:
            self._frame_context.run(self.tick.__exit__, None, None, None)
        except Exception as error:
            self._report(error)
        if self.tick.pending and not self.closed:
            self._open_frame()
            if self.busy == 0:
                self._schedule_settle()

    def _report(self, error: BaseException) -> None:
        if self.on_flush_error is not None:
            self.on_flush_error(error)
        else:
            logger.error("airlock: flushing a Textual tick failed", exc_info=error)

    def close(self) -> None:
        """Flush the open tick and whatever waits, then refuse further ticks (app shutdown)."""
        if self.closed:
            return
        self.closed = True
        if self.tick.is_active:
            self._close_frame()
        try:
            self._frame_context.run(self.tick.close)
        except Exception as error:
            self._report(error)
