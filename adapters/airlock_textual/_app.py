"""``AirlockApp``: a Textual app mixin that runs every handler inside the app's airlock tick.

Use ``class MyApp(AirlockApp, App[None])`` (AirlockApp first: the other order is refused when
the class is created). Then ``airlock.enqueue(...)`` from any handler of the app — App, Screen
or Widget handlers, ``call_later``/``call_next``/``call_after_refresh`` callbacks, timers and
async workers started from them — lands in the app's current tick and runs once, in order,
under the app's policy, when the tick ends. A tick is one burst of message handling, ending
when the app's message queues go idle (see ``_driver.py`` for why).

Rules:
- A handler that raises loses only the effects it enqueued itself; Textual then stops the app
  (its default), and the effects of every other handler are still flushed at shutdown.
- Threads: in a thread worker (``@work(thread=True)``), ``airlock.enqueue`` joins the tick,
  and so does ``self.call_from_thread(airlock.enqueue, ...)`` from any thread; so does
  ``app.enqueue_from_thread(task, *args)``. The effect runs in the tick's open frame or its
  next one, on the app's thread (see ``_threads.py``).
- The executor is airlock's ``AsyncioExecutor``: coroutine-function effects run as tasks on
  the app's loop. Effects run with ``errors="continue"``: one failing effect does not stop the
  others. A failure, sync or async, is logged once on the ``airlock`` logger (as every airlock
  scope with ``errors="continue"`` logs it), reported to the app's observers (``failed``) and
  shown with ``app.notify``. The adapter's own messages use the ``airlock.textual`` logger.
- ``AIRLOCK_INSPECTOR = True`` records ticks and binds F12 / ctrl+backslash to the
  ``EffectInspector`` panel.
- At exit, an app run with ``run()``/``run_async()`` gives its async effects still running
  (a save on exit) up to ``AIRLOCK_EXIT_GRACE`` seconds to finish; what is left runs on
  until its loop ends (``run()``'s loop ends at once), which cancels it, and each
  cancellation is reported like a failure (logged as a warning, told to the observers'
  ``failed`` with the CancelledError, counted in ``app.airlock_executor.outcomes.cancelled``).
- At shutdown, after the App's own Unmount handlers ran, the last tick is flushed and the
  tick is closed. An effect enqueued after that (a worker or task that outlived the app) is
  dropped: counted in ``app.airlock_dropped_after_shutdown``, the first one logged as a
  warning; the caller gets no exception.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual.app import App

from airlock import Intent, Observer, Policy, TickScope
from airlock.integrations.executors.asyncio import AsyncioExecutor, EffectsFailed

from ._driver import TickDriver
from ._hook import LISTENER_ATTR, install_hooks, set_pump_hooks
from ._inspector import EffectInspector
from ._recorder import EffectRecorder
from ._threads import call_with_target

if TYPE_CHECKING:
    from textual.pilot import Pilot

    _AppBase = App[Any]
else:
    _AppBase = object

__all__ = ["AirlockApp"]

T = TypeVar("T")
#: effects' failures, sync (logged by the core) and async (logged here), share one logger
effect_logger = logging.getLogger("airlock")

INSPECTOR_KEYS = "f12,ctrl+backslash"


class AirlockApp(_AppBase):
    """Mixin for ``textual.app.App``: one airlock tick per burst of handlers (module docstring)."""

    #: policy of the app's tick (None: ``airlock.configure(policy=...)``'s default)
    AIRLOCK_POLICY: ClassVar[Policy | None] = None
    #: ``order_by`` key of the tick, e.g. ``airlock.by_phase("ui", "save", "network")``
    AIRLOCK_ORDER_BY: ClassVar[Callable[[Intent], Any] | None] = None
    #: close a tick that stays open longer than this (a handler awaiting something slow)
    AIRLOCK_MAX_TICK_MS: ClassVar[float | None] = 500.0
    #: record ticks and bind F12 / ctrl+backslash to the effect inspector
    AIRLOCK_INSPECTOR: ClassVar[bool] = False
    #: seconds an exiting app waits for its async effects still running (a save on exit)
    #: before asyncio cancels what is left (0: no wait)
    AIRLOCK_EXIT_GRACE: ClassVar[float] = 1.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        mro = cls.__mro__
        if App in mro and mro.index(App) < mro.index(AirlockApp):
            raise TypeError(
                f"class {cls.__qualname__}: put AirlockApp before App in the bases, as in "
                f"`class {cls.__name__}(AirlockApp, App[None])`; with App first, "
                "AirlockApp never sets up the app's tick and every airlock.enqueue fails"
            )

    def __init__(
        self,
        *args: Any,
        airlock_policy: Policy | None = None,
        airlock_observers: Iterable[Observer] = (),
        **kwargs: Any,
    ) -> None:
        if not isinstance(self, App):
            raise TypeError(
                f"{type(self).__qualname__} is an AirlockApp but not a textual App; "
                f"define it as `class {type(self).__name__}(AirlockApp, App[None])`"
            )
        super().__init__(*args, **kwargs)
        install_hooks()
        self.airlock_executor = AsyncioExecutor(on_error=self._airlock_async_failed)
        #: the drain in progress (``airlock_drain``), and failures no caller was given yet
        self._airlock_draining: asyncio.Future[list[tuple[Intent, BaseException]]] | None = None
        self._airlock_unreturned: list[tuple[Intent, BaseException]] = []
        self.airlock_recorder: EffectRecorder | None = (
            EffectRecorder() if self.AIRLOCK_INSPECTOR else None
        )
        watchers = list(airlock_observers)
        if self.airlock_recorder is not None:
            watchers.append(self.airlock_recorder)
        self._airlock_driver = TickDriver(
            policy=airlock_policy if airlock_policy is not None else self.AIRLOCK_POLICY,
            executor=_NotifyingExecutor(self.airlock_executor, self._airlock_notify_failure),
            order_by=type(self).AIRLOCK_ORDER_BY,  # via the class: a function must not bind
            errors="continue",
            observers=watchers,
            handler_observers=watchers,
            max_tick_ms=self.AIRLOCK_MAX_TICK_MS,
            on_flush_error=self._airlock_flush_failed,
            owner=type(self).__qualname__,
            app=self,
        )
        setattr(self, LISTENER_ATTR, self._airlock_driver)
        # the App's own pump (see _hook.py): its task is App._process_messages, not wrapped
        set_pump_hooks(self, self._airlock_driver.pump_hooks(self, own_task=False))
        if self.AIRLOCK_INSPECTOR:
            self.bind(INSPECTOR_KEYS, "toggle_airlock_inspector", description="Effects")

    @property
    def airlock_tick(self) -> TickScope:
        """The app's tick: ``.frame`` counts ticks, ``.stats`` has the last tick's numbers."""
        return self._airlock_driver.tick

    @property
    def airlock_dropped_after_shutdown(self) -> int:
        """Effects enqueued after the app shut down (dropped; the first one was logged)."""
        return self._airlock_driver.tick.dropped_after_close

    def enqueue_from_thread(self, task: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """From any thread: run ``task(*args, **kwargs)`` in the next tick, on the app's thread.

        Dropped (and counted) once the app has shut down.
        """
        self._airlock_driver.tick.post(task, *args, **kwargs)

    def call_from_thread(
        self, callback: Callable[..., T | Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        """Textual's ``call_from_thread``; the callback enqueues into the app's tick.

        So ``self.call_from_thread(airlock.enqueue, task, ...)`` works from any thread (a
        thread that carries an airlock scope keeps it).
        """
        call = functools.partial(callback, *args, **kwargs)
        in_tick = functools.partial(call_with_target, call, self._airlock_driver.tick)
        return cast("T", super().call_from_thread(in_tick))

    async def run_async(self, *args: Any, **kwargs: Any) -> Any:
        """Textual's ``run_async``; then wait up to ``AIRLOCK_EXIT_GRACE`` seconds for the
        async effects still running (``run()`` goes through here too)."""
        try:
            return await super().run_async(*args, **kwargs)
        finally:
            self._airlock_close()
            await self._airlock_let_effects_finish()

    @contextlib.asynccontextmanager
    async def run_test(self, *args: Any, **kwargs: Any) -> AsyncIterator[Pilot[Any]]:
        """Textual's ``run_test``; when it ends, the app's tick is closed too (as at the end of
        ``run_async``), whether or not shutdown reached the App's own Unmount handler."""
        try:
            async with super().run_test(*args, **kwargs) as pilot:
                yield pilot
        finally:
            self._airlock_close()

    def _airlock_close(self) -> None:
        """Close the app's tick if its shutdown did not (Textual ends a shutdown early when a
        widget's Unmount handler raises: the App's own never runs): the last tick is flushed,
        and what arrives later is dropped and counted."""
        driver = self._airlock_driver
        if not driver.closed:
            driver.close()

    async def _airlock_let_effects_finish(self) -> None:
        grace = self.AIRLOCK_EXIT_GRACE
        if grace > 0 and self.airlock_executor.pending:
            # failures were reported as they happened; what outlives the grace is left to
            # the loop (``run()``'s ``asyncio.run`` cancels it: each cancellation is reported)
            with contextlib.suppress(asyncio.TimeoutError):
                await self.airlock_drain(grace)

    async def airlock_drain(
        self, timeout: float | None = None
    ) -> list[tuple[Intent, BaseException]]:
        """Wait for the async effects still running (``TimeoutError`` after ``timeout``
        seconds: they keep running, and the next call waits for them again).

        Returns the async failures since the last drain that returned; they were already
        reported.
        """
        task = self._airlock_draining
        if task is not None and task.done():  # its caller timed out: keep what it found
            if not task.cancelled():
                self._airlock_unreturned += task.result()
            task = None
        if task is None:
            task = asyncio.ensure_future(_failures_of(self.airlock_executor))
            self._airlock_draining = task
        # shielded: a timeout must not cancel the drain, whose gather would cancel the effects
        found = await asyncio.wait_for(asyncio.shield(task), timeout)
        if self._airlock_draining is task:
            self._airlock_draining = None
        else:  # another caller of this drain returned first, with what it found
            found = []
        failures, self._airlock_unreturned = self._airlock_unreturned + found, []
        return failures

    def action_toggle_airlock_inspector(self) -> None:
        """Show or hide the effect inspector on the current screen."""
        recorder = self.airlock_recorder
        if recorder is None:
            self.notify("set AIRLOCK_INSPECTOR = True on the app to record ticks")
            return
        panels = self.screen.query(EffectInspector)
        if panels:
            panel = panels.first()
            panel.display = not panel.display
        else:
            self.screen.mount(EffectInspector(recorder))

    # -- failures ----------------------------------------------------------------------------

    def _airlock_notify_failure(self, intent: Intent, error: BaseException) -> None:
        """Show a failed effect (sync or async) as an error notification."""
        if self.is_running:
            self.notify(f"{intent} failed: {error!r}", title="airlock", severity="error")

    def _airlock_async_failed(self, intent: Intent, error: BaseException) -> None:
        """Log an async effect's failure and notify (the executor's ``on_error``; the
        executor then tells the tick's observers, see ``airlock.report_background_failure``)."""
        if isinstance(error, (asyncio.CancelledError, concurrent.futures.CancelledError)):
            effect_logger.warning(
                "airlock: async effect %s was cancelled before it finished (the app exited, "
                "or its task was cancelled); raise AIRLOCK_EXIT_GRACE to give effects more "
                "time at exit", intent,
            )
        else:
            effect_logger.error("airlock: async effect %s failed", intent, exc_info=error)
        self._airlock_notify_failure(intent, error)

    def _airlock_flush_failed(self, error: BaseException) -> None:
        """A flush itself failed (a policy or observer raised): stop the app like a handler."""
        if self.is_running:
            self.call_later(_reraise, error)
        else:
            raise error


def _reraise(error: BaseException) -> None:
    raise error


async def _failures_of(executor: AsyncioExecutor) -> list[tuple[Intent, BaseException]]:
    """Wait for ``executor``'s effects; the failures reported since its last drain."""
    try:
        await executor.drain()
    except EffectsFailed as failed:
        return failed.failures
    return []


class _NotifyingExecutor:
    """The app's executor: a sync effect's failure is shown (``notify``) and raised on to the
    tick, which logs it and tells the observers (``errors="continue"``). Not an observer of
    the tick: a tick with no observers keeps the core's fast paths."""

    __slots__ = ("executor", "notify")

    def __init__(
        self, executor: AsyncioExecutor, notify: Callable[[Intent, BaseException], None]
    ) -> None:
        self.executor = executor
        self.notify = notify

    def __call__(self, intent: Intent) -> Any:
        try:
            return self.executor(intent)
        except Exception as error:
            self.notify(intent, error)
            raise

    def run_task(
        self,
        task: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        get_intent: Callable[[], Intent],
    ) -> Any:
        """The same for a buffered record (airlock's ``Executor.run_task``): no Intent is built
        unless the effect fails or returns an awaitable."""
        try:
            return self.executor.run_task(task, args, kwargs, get_intent)
        except Exception as error:
            self.notify(get_intent(), error)
            raise
