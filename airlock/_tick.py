"""Ticks: one reusable scope per game-loop frame or UI event tick.

Rules:
- ``with tick:`` opens frame N; leaving it flushes the frame (discards it on an exception),
  then frame N+1 may open. The same object and buffer serve every frame.
- Anything that becomes runnable while frame N is not open — an effect enqueueing during the
  flush, a task or timer that kept the tick's context, a nested scope flushing during the
  flush, a worker thread's ``post()`` — waits for frame N+1. Nothing is lost or run early.
- A budget (``max_per_frame``, ``max_flush_ms``) bounds one flush; what does not fit has
  already passed the policy and is dispatched first in the next frame, in order.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from time import perf_counter_ns
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ._context import NO_SCOPE, current_target, resolve
from ._errors import ScopeStateError
from ._intent import Intent, IntentOptions
from ._observe import Observer
from ._policies import Policy
from ._scope import (
    ACTIVE,
    FLUSHED,
    NEW,
    PENDING,
    ErrorMode,
    Executor,
    Scope,
    _reset_target,
    _set_target,
)

__all__ = ["TickScope", "tick_scope"]

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("airlock")
_get_target = current_target.get

_GENERAL, _IDLE, _OPEN = 0, 1, 2  # values of TickScope._inline


class _TickType(type):
    """TickScope's metaclass: ``__enter__``/``__exit__`` read on the class.

    A tick keeps its ``__enter__``/``__exit__`` in slots (see ``_frame_methods``). Read on the
    class, a slot is a member descriptor, not a function of the tick; callers that do
    ``type(cm).__enter__(cm)`` (``contextlib.ExitStack``, ``unittest``) get these instead.
    """

    @property
    def __enter__(cls) -> Callable[[TickScope], TickScope]:
        return _enter_tick

    @property
    def __exit__(cls) -> Callable[..., None]:
        return _exit_tick


def _enter_tick(tick: TickScope) -> TickScope:
    return tick.__enter__()


def _exit_tick(tick: TickScope, *exc_info: Any) -> None:
    tick.__exit__(*exc_info)


class TickScope(Scope, metaclass=_TickType):
    """A scope reused for every frame of a loop. Create it with ``airlock.tick_scope()``."""

    # __enter__ and __exit__ are slots, filled per tick by _frame_methods: ``with`` finds a
    # slot's value as it is, where a method would be bound anew (two objects per frame).
    __slots__ = (
        "__enter__",
        "__exit__",
        "_carry",
        "_closed",
        "_inbox",
        "_inline",
        "_next",
        "frame",
        "max_flush_ns",
        "max_per_frame",
    )

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        executor: Executor | None = None,
        order_by: Callable[[Intent], Any] | None = None,
        errors: ErrorMode = "raise",
        observers: Iterable[Observer] = (),
        max_per_frame: int | None = None,
        max_flush_ms: float | None = None,
        timed: bool = False,
    ) -> None:
        self._next: list[Any] = []  # enqueued while no frame was open: joins the next frame
        self._carry: list[Intent] = []  # released, left over by a budget: dispatched first next
        # thread handoff (post): never replaced, as the frame closures hold it
        self._inbox: deque[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = deque()
        self._closed = False
        self._inline = _GENERAL
        if max_per_frame is not None and (not isinstance(max_per_frame, int) or max_per_frame < 1):
            raise ValueError(f"max_per_frame must be a positive int or None, got {max_per_frame!r}")
        if max_flush_ms is not None and not max_flush_ms > 0:
            raise ValueError(f"max_flush_ms must be a positive number or None: {max_flush_ms!r}")
        #: number of frames completed (flushed or discarded)
        self.frame = 0
        self.max_per_frame = max_per_frame
        self.max_flush_ns = None if max_flush_ms is None else int(max_flush_ms * 1_000_000)
        super().__init__(
            policy, executor=executor, order_by=order_by, errors=errors, observers=observers
        )
        self._timed = bool(timed)  # else the first read of stats turns frame timing on
        # through the slots themselves: a subclass's own __enter__ would take the assignment
        open_frame, close_frame = _frame_methods(self)
        _ENTER_SLOT.__set__(self, open_frame)
        _EXIT_SLOT.__set__(self, close_frame)

    def _configure_paths(self) -> None:
        super()._configure_paths()
        if self.max_per_frame is not None or self.max_flush_ns is not None:
            self._fast_flush = False
        self._update_inline()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_lifecycle = (
            cls.exit is TickScope.exit and cls.should_flush is Scope.should_flush
            and cls.enter is TickScope.enter
        )

    if TYPE_CHECKING:  # at run time, the slots hold the closures of _frame_methods

        def __enter__(self) -> TickScope: ...

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None: ...

    def _update_inline(self) -> None:
        """Recompute ``_inline`` after a change of configuration, state or waiting work."""
        if self._state is ACTIVE:
            if not self._fast_flush:
                self._inline = _GENERAL
        elif (
            self._plain_lifecycle
            and self._fast_flush
            and not self._enqueue_hooked
            and not (self._next or self._carry or self._closed)
        ):
            self._inline = _IDLE
        else:
            self._inline = _GENERAL

    # -- frames ----------------------------------------------------------------------------

    def enter(self) -> TickScope:
        """Open the next frame; effects waiting for it join its buffer first, in order."""
        if self._state is ACTIVE or resolve(_get_target())[0] is self:
            raise ScopeStateError(
                f"{self!r} is open or flushing here; a tick cannot be nested in itself"
            )
        if self._closed:
            raise ScopeStateError(f"{self!r} is closed; create a new tick_scope()")
        if self._next:
            self._buffer.extend(self._next)
            self._next.clear()
            self._rich = self._rich or any(type(e) is Intent for e in self._buffer)
        inbox = self._inbox
        if inbox:
            append = self._buffer.append
            while inbox:
                append(inbox.popleft())
        if self._carry:
            self._rich = True
        self._inline = _GENERAL
        self._open()
        return self

    def exit(self, error: BaseException | None = None) -> None:
        """Close the frame: flush it (or discard it on an error), then count it."""
        if self._state is not ACTIVE:
            raise ScopeStateError(f"no frame of {self!r} is open; cannot exit it")
        self._state = PENDING
        self._accepting = False
        try:
            if self.should_flush(error):
                self._release()
            else:
                self._drop_buffer()
        finally:
            self._close_context()
            self._parent = None
            self._ambient_policies = ()
            self.frame += 1
            self._update_inline()
            if self.observers:
                self._notify_flushed()

    def discard(self) -> None:
        """Drop the open frame's intents now; the frame stays open and closes as usual."""
        if self._state is not ACTIVE:
            raise ScopeStateError(
                f"no frame of {self!r} is open; discard() drops the open frame's intents"
            )
        self._drop_buffer()
        self._state = ACTIVE
        self._update_accepting()

    def __call__(self, func: F) -> F:
        """Use the tick as a decorator: every call of ``func`` is one frame."""

        @functools.wraps(func)
        def frame(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        frame.tick = self  # type: ignore[attr-defined]
        return frame  # type: ignore[return-value]

    def close(self) -> None:
        """Run one last frame for whatever is waiting, then refuse further frames."""
        if self._state is ACTIVE:
            raise ScopeStateError(f"cannot close {self!r} while frame {self.frame} is open")
        self.max_per_frame = self.max_flush_ns = None
        self._configure_paths()
        with self:
            pass
        self._closed = True
        self._inline = _GENERAL
        left = len(self._next) + len(self._inbox)
        if left:
            logger.warning("airlock: %s closed with %d re-entrant intent(s) discarded", self, left)
            self._next.clear()
            self._inbox.clear()

    @property
    def pending(self) -> int:
        """Intents waiting for the next frame (re-entrant, handed over, or carried)."""
        return len(self._next) + len(self._inbox) + len(self._carry)

    # -- arrivals while no frame is open ---------------------------------------------------

    def post(self, task: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Hand an effect to this tick from any thread; it joins the next frame, in arrival order.

        Thread-safe (a ``deque.append``). The effect is filtered by the next frame's policy.
        """
        if not callable(task):
            raise TypeError(f"tick.post() needs a callable task, got {task!r}")
        if self._closed:
            raise ScopeStateError(f"{self!r} is closed; nothing will run {task!r}")
        self._inbox.append((task, args, kwargs))
        self.on_waiting()

    def on_waiting(self) -> None:
        """Called when something starts waiting for the next frame: a ``post()``, an enqueue
        or a nested scope's capture while no frame is open. Does nothing; override it to ask
        for a frame soon (the Textual adapter wakes its app). May run on any thread."""

    def _enqueue_inactive(
        self,
        task: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: IntentOptions | None,
        local_policies: tuple[Policy, ...],
    ) -> None:
        if self._closed:
            super()._enqueue_inactive(task)
        self._next.append(self._entry(task, args, kwargs, options, local_policies))
        self._inline = _GENERAL
        self.on_waiting()

    def _captures_descendants(self) -> bool:
        return not self._closed

    def _capture(self, intents: list[Intent]) -> None:
        if self._state is ACTIVE:
            super()._capture(intents)
        else:
            self._next.extend(intents)
            self._inline = _GENERAL
            self.on_waiting()

    # -- flush -----------------------------------------------------------------------------

    def _release(self) -> None:
        try:
            super()._release()
        finally:
            if self._carry:
                self.stats.carried = len(self._carry)

    def _dispatch(self, intents: list[Intent]) -> None:
        carry = self._carry
        if carry:
            intents = carry + intents
            carry.clear()
        limit = self.max_per_frame
        if limit is not None and len(intents) > limit:
            carry.extend(intents[limit:])
            del intents[limit:]
        budget = self.max_flush_ns
        if budget is None:
            super()._dispatch(intents)
            return
        deadline = perf_counter_ns() + budget
        for index, intent in enumerate(intents):
            if index and perf_counter_ns() >= deadline:
                carry[:0] = intents[index:]
                return
            try:
                super()._dispatch([intent])
            except BaseException as exc:
                rest = getattr(exc, "undispatched_intents", None)
                if rest is not None:
                    rest.extend(intents[index + 1 :])
                raise

    def __repr__(self) -> str:
        state = "open" if self._state is ACTIVE else ("new" if self._state is NEW else "idle")
        return f"<TickScope frame={self.frame} {state} pending={self.pending}>"


_ENTER_SLOT: Any = vars(TickScope)["__enter__"]
_EXIT_SLOT: Any = vars(TickScope)["__exit__"]


def _frame_methods(tick: TickScope) -> tuple[Callable[[], TickScope], Callable[..., None]]:
    """The tick's ``__enter__`` and ``__exit__``: enter()/exit() inlined for the common frame.

    The common frame has nothing waiting, no outer scope, default policy/executor, no hooks
    and nothing rich enqueued; every other frame goes through enter()/exit(), to which these
    must stay equivalent. ``_inline`` says which applies (see _update_inline): _IDLE: no
    frame is open and the next may open inline; _OPEN: the open frame was opened inline and
    may close inline unless something rich was enqueued; _GENERAL: neither.
    """
    buffer = tick._buffer  # neither is ever replaced
    inbox = tick._inbox

    def open_frame() -> TickScope:
        if tick._inline == _IDLE and not inbox and _get_target() is NO_SCOPE:
            tick._token = _set_target(tick)
            tick._inline = _OPEN
            tick._state = ACTIVE
            tick._accepting = True
            return tick
        return tick.enter()

    def close_frame(
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if tick._inline != _OPEN or exc is not None or tick._rich:
            tick._inline = _GENERAL
            tick.exit(exc)
            return
        tick._accepting = False
        tick._state = FLUSHED  # the tick stays current: its effects' enqueues go to _next
        if not buffer:
            _reset_target(tick._token)  # type: ignore[arg-type]  # set by open_frame
            tick.frame += 1
            tick._plain_count = 0
            tick._inline = _IDLE
            return
        try:
            tick._run_plain(buffer)
        finally:
            _reset_target(tick._token)  # type: ignore[arg-type]  # set by open_frame
            tick.frame += 1
            if tick._inline == _OPEN:  # else something during the flush knew better
                tick._inline = _IDLE

    return open_frame, close_frame


def tick_scope(
    policy: Policy | None = None, *, executor: Executor | None = None, **options: Any
) -> TickScope:
    """Create one reusable per-frame scope: ``with tick:`` per frame, or ``@tick`` a frame function.

    Options: ``order_by``, ``errors`` ('raise' or 'continue'), ``observers``,
    ``max_per_frame``, ``max_flush_ms``, ``timed`` (measure ``stats.flush_ns`` from the first
    frame; otherwise from the first read of ``stats`` on).
    """
    return TickScope(policy, executor=executor, **options)


TickScope._plain_lifecycle = True  # Scope.__init_subclass__ judged it against Scope's methods
