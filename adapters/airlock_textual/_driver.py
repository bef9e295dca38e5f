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
- Held effects (``@airlock.debounce``/``@airlock.throttle``) wait in the tick; after each tick
  the driver sets one timer for the next one due (``tick.next_due``), which opens a tick then
  if no input came first: the user stops typing, the lookup runs.
- Frames are opened and closed in a private ``contextvars.Context``, so the tick never becomes
  its own parent and no pump's context is changed. That context holds the variables of the
  App's own message loop (Textual's ``active_app``, ``active_message_pump``...), taken when
  that loop starts, without its airlock target: effects run with the app active, so every
  Textual API that works in a handler works in an effect.
- A thread worker's work runs with the tick as its airlock target (``thread_work``, see
  ``_threads.py``); after ``close()`` the tick drops what still arrives (``_app_tick.py``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable
from contextvars import Token
from typing import Any

from textual._context import active_app
from textual.message import Message
from textual.message_pump import MessagePump

from airlock import (
    AllowAll,
    Observer,
    get_configuration,
    get_enqueue_target,
    reset_current_scope,
    set_current_scope,
)
from airlock.integrations.executors.sync import sync_executor

from ._app_tick import AppTick
from ._handler_scope import HandlerScope, scope_factory
from ._hook import APP_HOOK, PumpHooks, set_pump_hooks
from ._recorder import EffectRecorder
from ._threads import carry_target

__all__ = ["TickDriver"]

_ALLOW_ALL = AllowAll()
logger = logging.getLogger("airlock.textual")

Handle = tuple[HandlerScope, Token[Any] | None]


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
        app: MessagePump | None = None,
        **tick_options: Any,
    ) -> None:
        if settle_hops < 1:
            raise ValueError(f"settle_hops must be >= 1, got {settle_hops!r}")
        self.observers = tuple(observers)
        #: observers of each handler's scope (to see enqueues, in-handler coalescing and the
        #: effects of a raising handler); none keeps a handler's scope on the fast path
        self.handler_observers = tuple(handler_observers)
        self.tick = AppTick(self.wake, owner=owner, observers=self.observers, **tick_options)
        #: the App whose own Unmount handler is the last one: the ticks end with it (close())
        self.app = app
        self.settle_hops = settle_hops
        self.max_tick_s = None if max_tick_ms is None else max_tick_ms / 1000
        self.on_flush_error = on_flush_error
        #: handlers running now, across all pumps
        self.busy = 0
        self.closed = False
        self._generation = 0
        self._frame_context = self._empty_context = contextvars.Context()
        #: the app loop's context, for the frames that open from now on (``_open_frame``)
        self._app_context = self._frame_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wake_pending = False
        self._settling = False
        self._deadline: asyncio.TimerHandle | None = None
        self._due_timer: asyncio.TimerHandle | None = None  # wakes for a held effect
        #: whether a frame of the tick is open (the tick's ``is_active``, kept here: it is
        #: read per handler)
        self._frame_open = False
        #: builds a handler's scope (see ``_handler_scope_factory``)
        self._new_scope: Callable[[], HandlerScope] = scope_factory()

    # -- the pumps' hooks (see _hook.py) -----------------------------------------------------

    async def run_pump(
        self, pump: MessagePump, process: Callable[[MessagePump], Awaitable[None]]
    ) -> None:
        """Run a Screen's or Widget's task (``process``, Textual's ``_process_messages``)
        with the pump's hooks set and the tick as the task's airlock target throughout."""
        hooks = self.pump_hooks(pump, own_task=True)
        set_pump_hooks(pump, hooks)
        token = self.loop_started()
        try:
            await process(pump)
        finally:
            self.loop_ended(token)
            for name in hooks:
                vars(pump).pop(name, None)

    def pump_hooks(self, pump: MessagePump, *, own_task: bool) -> PumpHooks:
        """The wrappers of ``pump``'s dispatch (each handler runs in its own scope: ``begin``/
        ``end``) and, unless the pump's task has the tick as its target already
        (``own_task``, see ``run_pump``), of its loop: code between messages enqueues to
        the tick. The App is not ``own_task``: Textual also dispatches to it from the task
        that shuts it down."""
        cls = type(pump)
        dispatch = cls._dispatch_message
        begin, end = self.begin, self.end
        set_target = not own_task

        async def _dispatch_message(message: Message) -> None:
            handle = begin(pump, message, set_target)
            try:
                await dispatch(pump, message)
            except BaseException as error:
                end(handle, error)
                raise
            end(handle, None)

        if own_task:
            return {"_dispatch_message": _dispatch_message}
        loop = cls._process_messages_loop

        async def _process_messages_loop() -> None:
            if pump is self.app:  # the app's context: where the next frames open
                self._app_context = _context_without_airlock()
            token = self.loop_started()
            try:
                await loop(pump)
            finally:
                self.loop_ended(token)

        hooks: PumpHooks = {"_dispatch_message": _dispatch_message,
                            "_process_messages_loop": _process_messages_loop}
        if pump is self.app:  # the App's task, from its start (its reactive watchers...)
            process = getattr(cls, APP_HOOK[1])

            async def _process_messages(*args: Any, **kwargs: Any) -> None:
                token = self.loop_started()
                try:
                    await process(pump, *args, **kwargs)
                finally:
                    self.loop_ended(token)

            hooks[APP_HOOK[1]] = _process_messages
        return hooks

    def begin(self, pump: MessagePump, message: Message, set_target: bool = True) -> Handle | None:
        """A handler starts: open a tick if none is open, and a scope for this handler, whose
        parent is the tick (made the current target first, unless ``set_target`` is False:
        the caller's task has it as its target).

        If opening the scope fails, nothing is left changed: no handler counted as running,
        the context's airlock target as it was.
        """
        if self.closed:
            return None
        tick = self.tick
        if not self._frame_open:
            if self._loop is None:
                self.attach(asyncio.get_running_loop())
            self._open_frame()
        scope = self._new_scope()
        scope.tick, scope.pump, scope.handler_name = tick, pump, message.handler_name
        token = set_current_scope(tick) if set_target else None
        try:
            scope.__enter__()  # the with-protocol: the one lifecycle every scope keeps
        except BaseException:
            if token is not None:
                reset_current_scope(token)
            if self.busy == 0:
                self._schedule_settle()  # the frame it may have opened still ends
            raise
        self.busy += 1
        self._generation += 1
        return scope, token

    def end(self, handle: Handle | None, error: BaseException | None) -> None:
        """A handler ends: its scope hands its effects to the tick (or discards them).

        After shutdown its effects are dropped and counted as every late effect; the App's
        own Unmount handler ends the ticks (``close()``).
        """
        if handle is None:
            return
        scope, token = handle
        try:
            if error is None:
                if self.closed:
                    self.tick.drop_late(scope)
                else:
                    scope.__exit__(None, None, None)
            elif isinstance(error, asyncio.CancelledError):
                # its pump stopped (the app shutting down, its widget removed; Textual
                # swallows the error): its effects are dropped, counted and named, not lost
                self.tick.drop_cancelled(scope)
            else:
                scope.__exit__(type(error), error, error.__traceback__)
        finally:
            if token is not None:
                reset_current_scope(token)
            busy = self.busy = self.busy - 1
            if busy == 0 and not self._settling:  # (one chain: _schedule_settle's test)
                self._schedule_settle()
            if scope.pump is self.app and scope.handler_name == "on_unmount":
                self.close()  # (even when the handler's end raised: an observer's error)

    def loop_started(self) -> Token[Any] | None:
        """A pump's message loop starts: code it runs between messages enqueues to the tick."""
        return None if self.closed else set_current_scope(self.tick)

    def loop_ended(self, token: Token[Any] | None) -> None:
        if token is not None:
            reset_current_scope(token)

    def thread_work(self, work: Any) -> Any:
        """A thread worker's work, run with the tick as its airlock target (``_threads.py``)."""
        return carry_target(work, self.tick)

    def _handler_scope_factory(self) -> Callable[[], HandlerScope]:
        """How to build a handler's scope: it filters nothing (the tick's policy decides) and
        never dispatches (the tick captures its effects, or they are dropped after shutdown).
        When the process-wide defaults are just that, with no ``scope_kwargs``, and there are
        no observers, it takes no arguments: the core's cheapest scope."""
        config = get_configuration()
        if (
            (config["policy"] is None or type(config["policy"]) is AllowAll)
            and config["executor"] in (None, sync_executor)
            and not config["scope_kwargs"]
            and not self.handler_observers
        ):
            return scope_factory()
        return scope_factory(_ALLOW_ALL, executor=sync_executor, observers=self.handler_observers)

    # -- loop plumbing -----------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run ticks on ``loop`` (the app's loop; the thread calling this is its thread)."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        if self.tick.pending > self.tick.held:
            self.wake()
        self._wake_when_due()

    def wake(self) -> None:
        """Ask for a tick soon (thread-safe); called when work waits for the next frame."""
        loop = self._loop
        if loop is None or self._wake_pending or self.closed:
            return
        self._wake_pending = True
        try:
            if threading.get_ident() == self._loop_thread:
                loop.call_soon(self._on_wake)
            else:
                loop.call_soon_threadsafe(self._on_wake)
        except RuntimeError:  # its loop closed (the app exited): the caller gets no error;
            self._wake_pending = False  # what waits goes with close() (the app's run ends it)

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
        self._new_scope = self._handler_scope_factory()  # the defaults may have changed
        if self._app_context is self._frame_context is self._empty_context and (
            active_app.get(None) is self.app
        ):  # a frame during setup, before the app's loop: take the app's context here
            self._app_context = _context_without_airlock()
        self._frame_context = self._app_context  # a frame closes where it opened
        self._frame_context.run(self.tick.__enter__)
        self._frame_open = True
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
        finally:
            self._frame_open = self.tick.is_active
        if self.closed:
            return
        if self.tick.pending > self.tick.held:  # work for a tick now (held effects wait)
            self._open_frame()
            if self.busy == 0:
                self._schedule_settle()
        self._wake_when_due()

    def _wake_when_due(self) -> None:
        """One timer, for the held effect due next: it opens a tick then (the tick's flush
        releases it). Reset after every tick."""
        if self._due_timer is not None:
            self._due_timer.cancel()
            self._due_timer = None
        due = self.tick.next_due
        if due is None or self._loop is None or self.closed:
            return
        delay = max(0.0, due - self.tick.clock())
        self._due_timer = self._loop.call_later(delay, self.wake)

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
        if self._due_timer is not None:
            self._due_timer.cancel()
            self._due_timer = None
        try:
            if self.tick.is_active:
                self._close_frame()
        finally:  # (an interrupt in the last frame's flush still closes the tick)
            try:
                self._frame_context.run(self.tick.close)
            except Exception as error:
                self._report(error)
            finally:
                for observer in self.tick.observers:  # (the inspector's: what the close
                    if isinstance(observer, EffectRecorder):  # discarded joins its record)
                        observer.tick_closed(self.tick)


def _context_without_airlock() -> contextvars.Context:
    """A new context holding this one's variables (Textual's ``active_app``...) except
    airlock's enqueue target: a frame opened there has no parent scope."""
    target = get_enqueue_target()
    context = contextvars.Context()
    for variable, value in contextvars.copy_context().items():
        if value is not target:
            context.run(variable.set, value)
    return context
