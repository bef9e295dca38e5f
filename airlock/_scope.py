"""Scopes decide *when* effects escape: they buffer intents and release them at flush.

Lifecycle (the reference Airlock's, see ``_states``): NEW -> ``enter()`` -> ACTIVE ->
``exit()`` -> PENDING (exited) -> exactly one of ``flush()`` / ``discard()`` -> FLUSHED |
DISCARDED. A scope never entered may be flushed or discarded too. ``with`` runs enter(),
exit(), then flush() or discard() as ``should_flush(error)`` decides.

Here: the lifecycle, the configuration and the extension points. Each other responsibility
has a module of functions that take the scope: the buffer (``_buffer``), the slow enqueue
path (``_entry``), nesting and capture (``_nesting``), the plain loop (``_plain``), the
ledger (``_ledger``), the pipeline flush and the discard (``_settle``). A flush
(``_release``) is the plain loop when the buffer holds only plain records and the plan allows
it, else the pipeline: on records unless something takes intents (``_settle.needs_intents``).
A scope used once keeps its buffer after the flush or discard (``intents`` stay readable).

Ledger: every intent that enters a flush leaves it exactly one way (see ``FlushStats``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextvars import Token
from time import perf_counter_ns
from types import TracebackType
from typing import Any, Literal, NoReturn, TypeVar

from ._buffer import Buffer
from ._cadence import run_held_now
from ._config import defaults
from ._context import NO_SCOPE, close_context, current_target
from ._entry import enqueue_late, enqueue_made
from ._errors import ScopeStateError
from ._executor import Executor, check_executor
from ._flush import FlushContext
from ._intent import Intent
from ._ledger import current_stats, fresh_stats, read_stats
from ._nesting import (
    ancestor_chooses,
    captures_all,
    capturing_ancestor,
    hand_over,
    nest,
    open_scope,
)
from ._observe import Observer, ObserverSet, check_observers
from ._plain import run_plain
from ._plan import FlushPlan, make_plan
from ._policies import DropAll, Policy, check_policy
from ._settle import (
    discard_now,
    drop_all,
    flush_context,
    flush_now,
    require_settleable,
    run_flush,
    settle,
)
from ._states import ACTIVE, DISCARDED, DONE_STATE, FLUSHED, NEW, PENDING
from ._stats import FlushStats, effect_label

__all__ = ["ErrorMode", "Executor", "FlushStats", "Scope", "effect_label"]

ErrorMode = Literal["raise", "continue"]
S = TypeVar("S", bound="Scope")

logger = logging.getLogger("airlock")

_MISSING = Token.MISSING
_set_target = current_target.set
_reset_target = current_target.reset
_ERROR_MODES = ("raise", "continue")
#: what ``_release`` returns when it dispatched nothing (never handed out: flush() copies it)
_NONE_DISPATCHED: list[Intent] = []


class Scope:
    """A buffer of intents with a lifecycle. Use as ``with Scope(...):`` or ``airlock.scope()``.

    Subclass to change *when* (``should_flush``) or how nested scopes are captured
    (``before_descendant_flushes``).
    """

    # Slots keep attribute access on the hot path cheap; subclasses may add a __dict__.
    __slots__ = (
        "__weakref__", "_accepting", "_ambient_policies", "_buffer", "_executor", "_observing",
        "_parent", "_plain_captured", "_plain_count", "_plain_ns", "_plan", "_policy", "_state",
        "_stats", "_timed", "_token", "errors", "observers", "order_by",
    )

    _state: str
    _parent: Scope | None
    _token: Token[Any] | None
    _policy: Policy
    _executor: Executor
    order_by: Callable[[Intent], Any] | None
    errors: ErrorMode
    observers: tuple[Observer, ...]

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        executor: Executor | None = None,
        order_by: Callable[[Intent], Any] | None = None,
        errors: ErrorMode = "raise",
        observers: Iterable[Observer] = (),
    ) -> None:
        # Stats are written lazily: after a plain flush (everything dispatched, or handed to
        # a capturing ancestor: _plain_captured) only _plain_count (None: _stats is current)
        # and _plain_ns are stored (see _ledger).
        self._stats: FlushStats | None = None
        self._plain_count: int | None = None
        self._plain_ns = 0
        self._plain_captured = False
        self._timed = True  # read the clock for stats.flush_ns (a tick waits for a reader)
        self._buffer = Buffer()  # never replaced: a tick's frame closures hold it
        self._state = NEW
        self._parent = None
        self._token = None
        self._ambient_policies: tuple[Policy, ...] = ()
        self._accepting = False
        if (
            policy is None and executor is None and order_by is None and errors == "raise"
            and not observers and self._plain_paths
        ):
            # the common library-code scope: copy the precomputed defaults
            self._policy = defaults.policy
            self._executor = defaults.executor
            self.order_by = None
            self.errors = "raise"
            self.observers = ()
            self._plan = defaults.plan
            return
        self._policy = defaults.policy if policy is None else check_policy(policy)
        self._executor = defaults.executor if executor is None else check_executor(executor)
        if order_by is not None and not callable(order_by):
            raise TypeError(f"order_by must be a key function over intents, got {order_by!r}")
        self.order_by = order_by
        if errors not in _ERROR_MODES:
            raise ValueError(f"errors must be 'raise' or 'continue', got {errors!r}")
        self.errors = errors
        self.observers = check_observers(observers) if observers else ()
        if self.observers:  # (unset without observers: nothing reads it then)
            self._observing = ObserverSet(self.observers)
        self._configure_paths()

    #: True when ``_configure_paths`` is Scope's own, so a default scope may copy the defaults.
    _plain_paths = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_plain_lifecycle" not in vars(cls):  # (TickScope says so itself)
            cls._plain_lifecycle = (
                cls.exit is Scope.exit and cls.should_flush is Scope.should_flush
                and cls.enter is Scope.enter and cls.flush is Scope.flush
                and cls.discard is Scope.discard
            )
        cls._plain_paths = (
            cls._configure_paths is Scope._configure_paths and cls._make_plan is Scope._make_plan
        )

    @property
    def stats(self) -> FlushStats:
        """Numbers of the last flush (see ``FlushStats``). Reading them turns on the timing of
        plain flushes (``flush_ns``) for a tick created with ``timed=False``. Safe from any
        thread: reading writes nothing a flush uses (see ``_ledger``)."""
        self._timed = True
        return read_stats(self)

    #: ``stats`` without turning timing on (see ``_ledger``)
    _current_stats = current_stats

    def _backlog(self) -> int:
        """What waits for a later flush (a tick's ``pending``; nothing for a scope)."""
        return 0

    # -- hot-path flags --------------------------------------------------------------------

    @property
    def policy(self) -> Policy:
        """The scope's policy; may be replaced at any time (e.g. mute, pause)."""
        return self._policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        self._policy = check_policy(policy)
        self._configure_paths()

    @property
    def executor(self) -> Executor:
        """The scope's executor; may be replaced at any time."""
        return self._executor

    @executor.setter
    def executor(self, executor: Executor) -> None:
        self._executor = check_executor(executor)
        self._configure_paths()

    def _configure_paths(self) -> None:
        """Build the plan of this configuration (rerun on any configuration change)."""
        self._plan = self._make_plan()
        self._update_accepting()

    def _make_plan(self, **tick_options: bool) -> FlushPlan:
        watching = bool(self.observers) and self._observing.watching
        return make_plan(
            self._policy, self._executor, self.order_by, self.errors, watching, **tick_options
        )

    def _update_accepting(self) -> None:
        self._accepting = (
            self._state is ACTIVE
            and not self._plan.enqueue_hooked
            and not self._ambient_policies
        )

    #: False: this scope captures descendants only while active, and holds no task (a tick:
    #: across frames, until closed; see ``_entry.check_holds`` and ``Buffer.capture``)
    _across_frames = False

    # -- lifecycle -------------------------------------------------------------------------

    #: True when enter/exit/should_flush/flush/discard are Scope's own, so ``with`` may
    #: inline them.
    _plain_lifecycle = True
    def __enter__(self: S) -> S:
        if self._plain_lifecycle and self._state is NEW:
            token = self._token = _set_target(self)
            outer = token.old_value
            if outer is _MISSING or outer is NO_SCOPE:
                # _open() inlined for a scope outside any other: no parent and no ambient
                # policies, as __init__ left them
                self._state = ACTIVE
                self._accepting = not self._plan.enqueue_hooked
                return self
            nest(self, outer)
            return self
        self.enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._plain_lifecycle and exc is None and self._state is ACTIVE:
            # enter() / exit() / flush() inlined
            _reset_target(self._token)  # type: ignore[arg-type]  # set by __enter__
            self._token = None
            self._state = PENDING
            self._accepting = False
            if self.observers:
                flush_now(self)
            elif self._buffer or self._buffer.rich:
                self._release()
            else:  # _release() of an empty scope, inlined
                self._plain_count = 0
                self._state = FLUSHED
            return
        self.exit()
        if self._state is PENDING:  # (else a subclass's exit() already flushed or discarded)
            cls = type(self)
            settle(self, exc, cls.flush is Scope.flush, cls.discard is Scope.discard)

    def enter(self: S) -> S:
        """Make this the current scope of the calling context. A scope is entered once."""
        if self._state is not NEW:
            problem = "is already active" if self._state is ACTIVE else self._done_state()
            raise ScopeStateError(
                f"cannot enter {self!r}: it {problem}; create a new scope per unit of work, "
                "or use airlock.tick_scope() for a reusable per-frame scope"
            )
        self._open()
        return self

    _open = open_scope  # enter(), once checked (see ``_nesting``)
    _close_context = close_context  # (see ``_context``)

    def exit(self) -> None:
        """Deactivate: the context's current scope becomes the one before ``enter()``.

        It does not flush: call ``flush()`` or ``discard()`` next (``with`` does, as
        ``should_flush(error)`` decides).
        """
        if self._state is not ACTIVE:
            raise ScopeStateError(
                f"cannot exit {self!r}: it is not active (it {self._done_state()}); "
                "exit() follows enter()"
            )
        self._close_context()
        self._state = PENDING
        self._update_accepting()

    def should_flush(self, error: BaseException | None) -> bool:
        """Whether ``with`` flushes (True) or discards (False) after ``exit()``.

        Default: flush on a clean exit, discard on any exception.
        """
        return error is None

    def flush(self) -> list[Intent]:
        """Dispatch the buffered intents; return those handed to the executor (after policies,
        batches merged). Intents captured by an enclosing scope are not in the list.

        Call it after ``exit()``, or on a scope that was never entered; once per scope.
        """
        require_settleable(self, "flush")
        dispatched = flush_now(self, want_intents=True)
        if dispatched is None:
            return self._materialize()
        return [] if dispatched is _NONE_DISPATCHED else dispatched

    def discard(self) -> list[Intent]:
        """Throw the buffered intents away without dispatching them; return them.

        Call it after ``exit()``, or on a scope that was never entered; once per scope.
        """
        require_settleable(self, "discard")
        discarded = self._materialize()
        discard_now(self)
        return discarded

    def _done_state(self) -> str:
        """How a scope's state reads in an error message."""
        return DONE_STATE[self._state]

    @property
    def is_active(self) -> bool:
        return self._state is ACTIVE

    @property
    def is_flushed(self) -> bool:
        return self._state is FLUSHED

    @property
    def is_discarded(self) -> bool:
        return self._state is DISCARDED

    def _captures_descendants(self) -> bool:
        """Whether a descendant that flushes now should ask this scope to capture."""
        return self._state is ACTIVE

    # -- observers (see ObserverSet) --------------------------------------------------------

    def _tell(self, hook: str, *args: Any) -> None:
        """Tell every observer ``hook`` (a scope with observers only)."""
        self._observing.tell(hook, *args)

    def _notify_flushed(self, failing: bool) -> None:
        """The flush (a tick's frame) ended: observers' ``flushed``, then their errors."""
        self._observing.flushed(self, failing)

    # -- nesting (see _nesting) -------------------------------------------------------------

    @captures_all
    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        """Called on each active ancestor (innermost first) when a nested scope flushes.

        Return the intents that may flush now; the rest are captured into this scope.
        Default: return [] (capture all — the outermost scope decides).
        """
        return []

    def _capture(self, entries: list[Any], child: Scope, plain: bool = False) -> bool:
        """Take a descendant's entries into this buffer: they keep their provenance (an
        Intent or full record carries its scope; ``child``'s plain records get a mark).
        ``plain``: every entry is a plain record (the buffer stays plain if it was). False,
        with nothing taken, when this scope ended meanwhile (another thread's); an override
        that returns None took them."""
        return self._buffer.capture(entries, child, plain, self)

    # -- the buffer ------------------------------------------------------------------------

    def _materialize(self) -> list[Intent]:
        """Turn buffered records into Intents in place (identity is stable from now on)."""
        return self._buffer.materialize(self)

    def _intent_of(self, entry: Any) -> Intent:
        """The Intent of one entry of the flush; a record becomes one in the buffer too, so
        that ``intents`` shows the same object afterwards."""
        if type(entry) is Intent:
            return entry
        return self._intents_for([entry])[0]

    def _intents_for(self, entries: list[Any]) -> list[Intent]:
        """``_intent_of`` for several entries (one pass over the buffer)."""
        return self._buffer.intents_for(entries, self)

    @property
    def intents(self) -> list[Intent]:
        """Every intent in the buffer (own and captured), in arrival order."""
        return self._materialize()

    @property
    def own_intents(self) -> list[Intent]:
        """Intents enqueued directly into this scope."""
        return [i for i in self.intents if i.scope is self]

    @property
    def captured_intents(self) -> list[Intent]:
        """Intents captured from nested scopes."""
        return [i for i in self.intents if i.scope is not self]

    # -- extension points ------------------------------------------------------------------

    def late_enqueue_target(self) -> Scope | None:
        """Where an enqueue goes that reaches this scope after it stopped being active (code
        that kept its context: a task, timer or thread). Default None: refused, see
        ``enqueue_refused``. Override to forward such effects, e.g. to a tick that runs them
        in its next frame."""
        return None

    def enqueue_refused(self, task: Callable[..., Any], error: ScopeStateError) -> None:
        """Called when an enqueue into this scope is refused because it is not active (or,
        for a tick, closed). Default: raise ``error`` at the enqueue. An override that
        returns drops the effect instead: it must count or log it."""
        raise error

    #: an enqueue while not active: ``late_enqueue_target()``, else ``enqueue_refused``
    #: (see ``_entry``; a tick overrides it: its enqueues between frames wait for the next)
    _enqueue_inactive = enqueue_late
    #: an entry made while active, for a scope that ended meanwhile (see ``_entry``)
    _enqueue_made = enqueue_made

    # -- flush -----------------------------------------------------------------------------

    def _release(self, want_intents: bool = False) -> list[Intent] | None:
        """Flush: coalesce, filter, offer to ancestors, order, batch, dispatch.

        Returns the entries handed to the executor (Intents when ``want_intents``), or None
        when that is the whole buffer. (The compiled kernel's close_rich inlines it for a
        tick's frame, and its release_plain the plain branch for a scope with no parent: keep
        them in sync.)
        """
        buffer = self._buffer
        rich = buffer.rich
        if not buffer and not rich:
            self._plain_count = 0
            self._state = FLUSHED
            return None
        if not rich and self._plan.plain_loop:
            ancestor = None if self._parent is None else capturing_ancestor(self)
            if ancestor is None:
                self._state = FLUSHED
                self._run_plain(buffer, not self._plan.tick)  # a scope runs arrivals too
                return None
            if hand_over(self, ancestor):  # a default ancestor took the tuples
                return _NONE_DISPATCHED
        if not rich and type(self._policy) is DropAll and not self._plan.watching:
            drop_all(self)  # plain tuples under DropAll: nothing to build or ask
            return _NONE_DISPATCHED
        stats = fresh_stats(self)
        started = perf_counter_ns()
        entries = (  # (``needs_intents(self)``, inlined: keep in sync)
            self._materialize()
            if want_intents or not self._plan.on_records
            or (self._parent is not None and ancestor_chooses(self))
            else buffer.records(self)
        )
        self._state = FLUSHED  # (the entries of the frame are read: see test_tick_threads)
        return run_flush(self, entries, stats, started)

    #: the plain loop (see ``_plain``)
    _run_plain = run_plain

    #: what this flush's stages see (see ``_settle``): a context of its own per flush (a tick
    #: keeps one)
    _flush_context = flush_context

    def _hold(self, entries: list[Any], ctx: FlushContext) -> list[Any]:
        """The hold stage (the buffer's ``holding`` flag). A scope holds nothing across
        flushes: held tasks that reach its own flush (an ancestor that chose not to capture
        them) run now, as their function. A tick overrides it."""
        return run_held_now(entries, ctx)

    # -- copies --------------------------------------------------------------------------

    def _refuse_copy(self, action: str) -> NoReturn:
        make = "airlock.tick_scope(...)" if hasattr(self, "frame") else "airlock.scope(...)"
        raise TypeError(
            f"airlock scopes cannot be {action}: {self!r} owns its buffered effects and its "
            f"place in the current context (a copy would run them twice); create a new one "
            f"with {make}"
        )

    def __copy__(self) -> NoReturn:
        self._refuse_copy("copied")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        self._refuse_copy("copied")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        self._refuse_copy("pickled")

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} {self._state} intents={len(self._buffer)}>"
