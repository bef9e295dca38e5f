"""Ticks: one reusable scope per game-loop frame or UI event tick.

Rules:
- ``with tick:`` opens frame N; leaving it flushes the frame (discards it on an exception),
  then frame N+1 may open. The same object and buffer serve every frame.
- One buffer, in arrival order, for every door an enqueue can take: the open frame's fast
  path, the slow path, an enqueue while no frame is open (an effect running during the flush,
  a task, timer or thread that kept the tick's context), a nested scope flushing late. A frame
  takes the entries the buffer holds when it closes, counted, never "whatever is there": what
  arrives later stays for frame N+1. So an enqueue that returns is never lost, and one
  thread's enqueues run in the order it made them.
- ``post()`` hands an effect over from any thread (the inbox). A frame takes, when it opens,
  the posts that arrived before (a bounded drain: posting threads cannot keep it from
  starting); under a budget, only about what one frame may dispatch, less its carry (the
  rest wait in the inbox, bounded by ``max_pending``). Posts and enqueues pass the same
  hooks, once, on the calling thread.
- After a frame, ``intents`` keeps its intents until the next frame opens (memory: the last
  frame's arguments stay referenced until then; ``keep_intents=False`` releases them at once).
- A budget (``max_per_frame``, ``max_flush_ms``) bounds one flush; what does not fit has
  already passed the policy and waits in the carry (a deque), dispatched first in the next
  frame, in order. A budgeted frame costs O(budget + its own new work), whatever the backlog.
  Budgets are read when a frame opens: a change applies from the next frame.
- Ledger: every frame's ``stats`` balance (``FlushStats.balance_error()``); posted and waiting
  intents count in ``enqueued`` of the frame that takes them, the carry in ``carried_in`` and
  ``carried``.
- Held tasks (``@airlock.debounce``/``@airlock.throttle``, see ``_cadence``) wait in the
  tick's store across frames, timed by its ``clock``; a frame's flush releases what is due.
  In the ledger they are carried: ``carried_in`` of each frame they wait through, ``carried``
  (and ``held``) when it ends, ``coalesced`` when a later one supersedes them. They count in
  ``pending``; while any waits, every frame takes the general path (its flush must look).
- ``close()`` refuses new posts, runs one last unbudgeted frame, then ends closed whatever
  happens; what it could not run (held effects too) is discarded, counted and logged.

Here: the tick's state, its configuration and its public methods. How a frame opens and
closes (inline or in general) is ``_frame``'s, the held effects ``_held``'s, the inbox
``_inbox``'s, what a forked child keeps ``_fork``'s.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from _thread import get_ident
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from ._arrivals import add_between_frames, post_to
from ._batch import Batch
from ._budget import NO_BUDGET, check_max_flush_ms, check_max_per_frame, dispatch_budgeted
from ._cadence import ALL, Cadence, HeldEffects, check_clock
from ._closing import close_tick, discard_leftovers
from ._context import runs_inside
from ._entry import make_entry, refusal
from ._errors import ScopeStateError
from ._flush import FlushContext
from ._fork import track_for_fork
from ._frame import (
    TickType,
    discard_open_frame,
    enter_claimed,
    finish_frame,
    frame_methods,
    refuse_opener,
    update_inline,
)
from ._held import hold_stage, request_release
from ._inbox import Inbox, OnFull
from ._intent import Intent, IntentOptions
from ._observe import Observer
from ._plan import FlushPlan
from ._policies import Policy
from ._scope import ErrorMode, Executor, Scope
from ._settle import new_flush_context, prepare
from ._shutdown import note_collected, report_collected
from ._states import ACTIVE, GENERAL, NEW
from ._stats import FlushStats

__all__ = ["TickScope", "tick_scope"]

#: the methods whose work a frame opened inline does itself (``_frame.frame_methods`` and the
#: compiled kernel's ``close_rich``)
_INLINED = ("_materialize", "_notify_flushed", "_release", "_run_plain")

F = TypeVar("F", bound=Callable[..., Any])

class TickScope(Scope, metaclass=TickType):
    """A scope reused for every frame of a loop. Create it with ``airlock.tick_scope()``."""

    _across_frames = True

    # __enter__ and __exit__ are slots, filled per tick by frame_methods: ``with`` finds a
    # slot's value as it is, where a method would be bound anew (two objects per frame).
    __slots__ = (
        "__enter__",
        "__exit__",
        "_carried_in",
        "_carry",
        "_claim",
        "_clock",
        "_closed",
        "_closing",
        "_ctx",
        "_discarded_early",
        "_frame_budget",
        "_held",
        "_held_in",
        "_inbox",
        "_inline",
        "_keep",
        "_lock",
        "_max_flush_ms",
        "_max_per_frame",
        "_owner",
        "_release_requests",
        "_shed_in",
        "_spent",
        "frame",
    )
    #: its enter()/exit() are the ones ``frame_methods`` inlines (subclasses: __init_subclass__)
    _plain_lifecycle = True

    # The buffer stays after a frame: the tick removes what a frame took when the next opens
    # (or at once without keep_intents), so entries that arrive meanwhile are never cleared.

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
        keep_intents: bool = True,
        max_pending: int | None = None,
        on_full: OnFull = "block",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = check_clock(clock)
        self._held = HeldEffects()  # held tasks waiting across frames
        self._held_in = 0  # how many waited when the frame opened, for its ledger
        #: release() calls made while frame N was open: (N, task, key), applied at its flush
        self._release_requests: list[tuple[int, Any, object]] = []
        self._max_per_frame = check_max_per_frame(max_per_frame)
        self._max_flush_ms = check_max_flush_ms(max_flush_ms)
        self._frame_budget = NO_BUDGET  # the budgets of the frame open or flushing
        # released entries (records or Intents) a budget left over: first in the next frame
        self._carry: deque[Any] = deque()
        self._carried_in = 0
        # thread handoff (post): never replaced, as the frame closures hold its deque
        self._inbox = Inbox(max_pending, on_full)
        self._shed_in = 0  # posts the bound shed, for the stats of the frame that opened
        # reentrant: a signal handler's late enqueue may land inside another one's
        self._lock = threading.RLock()  # orders late enqueues against close()
        self._closing = self._closed = False
        # the frame claim: one token, popped when a frame opens and put back when it has
        # completely ended (one C-level call each way), so one frame runs at a time
        self._claim = [True]
        self._ctx: FlushContext | None = None
        #: ident of the thread that opened the latest frame (at first: the creating thread)
        self._owner: int | None = get_ident()
        self._spent = 0  # leading buffer entries that belong to the last frame
        self._discarded_early = 0  # discard() inside the open frame, for its stats
        self._keep = bool(keep_intents)
        self._inline = GENERAL
        #: number of frames completed (flushed or discarded)
        self.frame = 0
        super().__init__(
            policy, executor=executor, order_by=order_by, errors=errors, observers=observers
        )
        self._timed = bool(timed)  # else the first read of stats turns frame timing on
        # through the slots themselves: a subclass's own __enter__ would take the assignment
        open_frame, close_frame = frame_methods(self)
        _ENTER_SLOT.__set__(self, open_frame)
        _EXIT_SLOT.__set__(self, close_frame)
        update_inline(self)  # (no other thread knows the tick yet)
        track_for_fork(self)
        report_collected()  # (ticks collected unclosed: a safe point to say so)

    def _configure_paths(self) -> None:
        """From any thread, frames running: the next frames take the general path until a
        frame's end has looked at the new plan (``update_inline``). The accepting flag is
        written after GENERAL, as a frame opening inline writes them the other way round (see
        ``_frame.frame_methods``): whichever comes last, the new plan holds."""
        super()._configure_paths()
        self._inline = GENERAL
        self._update_accepting()

    def _make_plan(self, **tick_options: bool) -> FlushPlan:
        budgeted = bool(
            self._frame_budget is not NO_BUDGET or self._max_per_frame or self._max_flush_ms
        )
        return super()._make_plan(tick=True, budgeted=budgeted, blocking=self._inbox.blocks())

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # (the compiled inline frame does the work of these methods itself: a subclass with
        # its own takes the general frame, which calls them, on both cores)
        cls._plain_lifecycle = (
            cls.exit is TickScope.exit and cls.should_flush is Scope.should_flush
            and cls.enter is TickScope.enter
            and all(getattr(cls, name) is getattr(TickScope, name) for name in _INLINED)
        )
        if cls.exit is not TickScope.exit:
            try:  # a frame ends with exit(error): refuse Scope's exit(self) here, not mid-loop
                inspect.signature(cls.exit).bind(None, None)
            except TypeError:
                raise TypeError(
                    f"{cls.__qualname__}.exit must take the frame's error: define "
                    "exit(self, error=None) and call super().exit(error)"
                ) from None

    if TYPE_CHECKING:  # at run time, the slots hold the closures of frame_methods

        def __enter__(self) -> TickScope: ...

        def __exit__(
            self,
            exc_type: type[BaseException] | None,
            exc: BaseException | None,
            tb: TracebackType | None,
        ) -> None: ...

    # -- budgets ---------------------------------------------------------------------------

    @property
    def max_per_frame(self) -> int | None:
        """At most this many intents dispatched per frame (None: no limit). A change applies
        from the next frame."""
        return self._max_per_frame

    @max_per_frame.setter
    def max_per_frame(self, value: int | None) -> None:
        self._max_per_frame = check_max_per_frame(value)
        self._configure_paths()

    @property
    def max_flush_ms(self) -> float | None:
        """Stop dispatching once a frame's dispatch has run this long, in milliseconds (None:
        no limit; at least one intent per frame). A change applies from the next frame."""
        return self._max_flush_ms

    @max_flush_ms.setter
    def max_flush_ms(self, value: float | None) -> None:
        self._max_flush_ms = check_max_flush_ms(value)
        self._configure_paths()

    @property
    def max_flush_ns(self) -> int | None:
        """``max_flush_ms`` in nanoseconds (read-only)."""
        ms = self._max_flush_ms
        return None if ms is None else int(ms * 1_000_000)

    # -- frames ----------------------------------------------------------------------------

    def enter(self) -> TickScope:
        """Open the next frame: what waits for it (posted, enqueued between frames) joins
        its buffer first, in arrival order. One frame at a time: see ``_claim_frame``."""
        self._claim_frame()
        return enter_claimed(self)

    def _claim_frame(self) -> None:
        """Take the frame claim, or refuse: a tick has one frame open or flushing at a time,
        whichever thread, greenlet or task asks. (Inlined in ``frame_methods``' open_frame,
        which records no owner: keep the two in sync otherwise; see ``_claim``.)"""
        try:
            self._claim.pop()
        except IndexError:
            refuse_opener(self)

    def _release_claim(self) -> None:
        """Put the claim back: the frame has completely ended (flushed, counted, context
        reset). Only the claim's holder calls it; on a closed tick it first discards what
        still waits (see ``_closing.discard_once_closed``)."""
        try:
            if self._closed:  # (maybe as an error goes on: an observer's interrupt is logged)
                discard_leftovers(self, failing=True)
        finally:
            if not self._claim:
                self._claim.append(True)

    def exit(self, error: BaseException | None = None) -> None:
        """Close the frame: flush it (or discard it on an error), then count it."""
        if self._state is not ACTIVE:
            raise ScopeStateError(f"no frame of {self!r} is open; cannot exit it")
        try:
            finish_frame(self, error)
        finally:
            self._release_claim()

    def flush(self) -> list[Intent]:
        """Not for ticks: each frame flushes as it closes (``with tick:``, or ``exit()``)."""
        raise ScopeStateError(
            f"{self!r} flushes each frame as it closes; run a frame (`with tick: pass`) to "
            "dispatch what waits for it. flush() after exit() is for airlock.scope()"
        )

    def discard(self) -> list[Intent]:
        """Drop the open frame's intents now (and return them); the frame stays open and
        closes as usual. Only from inside the frame (its body, however deep in nested
        scopes): another thread would race the frame's end."""
        if self._state is not ACTIVE:
            raise ScopeStateError(
                f"no frame of {self!r} is open; discard() drops the open frame's intents"
            )
        if not runs_inside(self):
            raise ScopeStateError(
                f"discard() of {self!r} was called outside its open frame (another thread or "
                "context); call it inside the `with tick:` block, or have that code check a "
                "flag you set and call it there"
            )
        return discard_open_frame(self)

    def __call__(self, func: F) -> F:
        """Use the tick as a decorator: every call of ``func`` is one frame."""

        @functools.wraps(func)
        def frame(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        frame.tick = self  # type: ignore[attr-defined]
        return frame  # type: ignore[return-value]

    def close(self) -> None:
        """Refuse new posts, run one last frame (no budget) for whatever is waiting, and end
        closed — also when that frame raises. What it could not run (enqueued during that
        frame, or arriving meanwhile) is discarded, counted in its stats and logged."""
        close_tick(self)

    def _backlog(self) -> int:
        return self.pending

    def _done_state(self) -> str:
        return "is closed" if self._closed else super()._done_state()

    @property
    def is_closed(self) -> bool:
        """True once ``close()`` has run: no frame opens again and late arrivals are refused."""
        return self._closed

    @property
    def pending(self) -> int:
        """Effects waiting for a later frame (enqueued between frames, posted, carried, or
        held: see ``held``). A batch whose payloads a budgeted frame merged and carried waits
        as its one merged call (that frame counted the other payloads ``batched``)."""
        waiting = 0 if self._state is ACTIVE else len(self._buffer) - self._spent
        return waiting + len(self._inbox) + len(self._carry) + len(self._held)

    # -- held tasks (@airlock.debounce, @airlock.throttle) ---------------------------------

    @property
    def held(self) -> int:
        """Held effects waiting for their time (a part of ``pending``)."""
        return len(self._held)

    @property
    def clock(self) -> Callable[[], float]:
        """The tick's clock (``tick_scope(clock=...)``): seconds, for held tasks."""
        return self._clock

    @property
    def next_due(self) -> float | None:
        """When the next held effect is due, in the tick's ``clock`` (None: none waits).
        The first frame that flushes from then on runs it; a loop that sleeps while idle
        wakes for it (the Textual adapter does)."""
        with self._lock:
            return self._held.next_due()

    def release(self, task: Cadence | None = None, /, *, key: object = ALL) -> int:
        """Let held effects go now: those of ``task`` (default: every held task) with ``key``
        (default: any). Called while a frame is open, it runs them at that frame's end, with
        the latest arguments (also those enqueued later in the frame: "save and quit");
        otherwise in the next frame. Returns how many were waiting. A frame that fails
        (discarded) drops its releases: what waited keeps waiting."""
        return request_release(self, task, key)

    def _flush_context(self, stats: FlushStats) -> FlushContext:
        """The tick's one flush context, made at its first rich flush and prepared for each."""
        ctx = self._ctx
        if ctx is None:
            ctx = self._ctx = new_flush_context(self)
            ctx.carry = self._carry  # (never replaced)
        prepare(self, ctx, stats)
        ctx.budget = self._frame_budget
        if self._carry:  # intents a budget left: they go first, whatever the plan
            ctx.dispatch = dispatch_budgeted
        return ctx

    #: the hold stage: release what is due, hold the frame's held tasks (see ``_held``)
    _hold = hold_stage

    # -- what a frame holds ----------------------------------------------------------------

    @property
    def intents(self) -> list[Intent]:
        """The open frame's intents; between frames, the last frame's (until the next opens;
        empty with ``keep_intents=False``). ``own_intents`` and ``captured_intents`` follow."""
        if self._state is ACTIVE:
            return self._materialize()
        if not self._keep:  # (a frame's end may leave them to the next: see keep_or_drop)
            return []
        return self._materialize()[: self._spent]

    # -- arrivals while no frame is open ---------------------------------------------------

    def post(self, task: Callable[..., Any] | Batch, /, *args: Any, **kwargs: Any) -> None:
        """Hand an effect to this tick from any thread; it joins the next frame, in arrival order.

        Takes ``enqueue``'s options (``_key``, ``_name``, ``_origin``, ``_dispatch_options``);
        the policy's ``on_enqueue`` and observers' ``enqueued`` run here, on the calling
        thread. The effect is filtered by the next frame's policy. Thread-safe and safe in a
        signal handler; raises ``ScopeStateError`` once ``close()`` has begun. With
        ``max_pending``, a full inbox does what ``on_full`` says (see ``tick_scope``).
        """
        post_to(self, task, args, kwargs)

    def on_waiting(self) -> None:
        """Called when something starts waiting for the next frame: a ``post()``, an enqueue
        or a nested scope's capture while no frame is open. Does nothing; override it to ask
        for a frame soon (the Textual adapter wakes its app). May run on any thread."""

    def _enqueue_inactive(
        self,
        task: Any,
        args: Any = (),
        kwargs: Any = None,
        options: IntentOptions | None = None,
        local_policies: tuple[Policy, ...] = (),
        *rest: Any,
    ) -> None:
        if self._closed:
            self.enqueue_refused(task, refusal(self, task, options))
            return
        entry = make_entry(self, task, args, kwargs, options, local_policies)
        self._enqueue_made(entry, options, local_policies)

    def _enqueue_made(
        self, entry: Any, options: IntentOptions | None, local_policies: tuple[Policy, ...]
    ) -> None:
        """An entry made while no frame is open (or for a frame that ended meanwhile): the
        next frame's, unless the tick is closed."""
        add_between_frames(self, entry, options, local_policies)

    def _captures_descendants(self) -> bool:
        return not self._closed

    def _capture(self, entries: list[Any], child: Scope, plain: bool = False) -> bool:
        if not self._buffer.capture(entries, child, plain, self):  # closed meanwhile
            return False
        if self._state is not ACTIVE:
            self.on_waiting()
        return True

    def __del__(self) -> None:
        note_collected(self)  # (effects still waiting would go without a word)

    def __repr__(self) -> str:
        state = "open" if self._state is ACTIVE else ("new" if self._state is NEW else "idle")
        return f"<TickScope frame={self.frame} {state} pending={self.pending}>"


_ENTER_SLOT: Any = vars(TickScope)["__enter__"]
_EXIT_SLOT: Any = vars(TickScope)["__exit__"]


def tick_scope(
    policy: Policy | None = None, *, executor: Executor | None = None, **options: Any
) -> TickScope:
    """Create one reusable per-frame scope: ``with tick:`` per frame, or ``@tick`` a frame function.

    Options: ``order_by``, ``errors`` ('raise' or 'continue'), ``observers``,
    ``max_per_frame``, ``max_flush_ms``, ``timed`` (measure ``stats.flush_ns`` from the first
    frame; otherwise from the first read of ``stats`` on), ``keep_intents`` (default True:
    ``tick.intents`` shows the last frame's until the next opens; False releases them at once),
    ``max_pending`` and ``on_full`` (bound ``post()``'s backlog), ``clock`` (seconds, default
    ``time.monotonic``: times ``@airlock.debounce`` and ``@airlock.throttle`` tasks).
    """
    return TickScope(policy, executor=executor, **options)
