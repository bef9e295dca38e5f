"""Scopes decide *when* effects escape: they buffer intents and release them at flush.

Lifecycle (the reference Airlock's): NEW -> ``enter()`` -> ACTIVE -> ``exit()`` -> PENDING
(exited) -> exactly one of ``flush()`` / ``discard()`` -> FLUSHED | DISCARDED. A scope never
entered may be flushed or discarded too. ``with`` runs enter(), exit(), then flush() or
discard() as ``should_flush(error)`` decides.

Buffer: ``_buffer`` (a ``Buffer``, see ``_buffer``) holds records (see ``_record``: plain
``(task, args, kwargs)`` tuples, full 9-field tuples) and ``Intent`` objects, in arrival
order, with the origin marks of captured plain records and the flags the flush reads. Its
``rich`` is False only while every entry is a plain record, which is what lets a flush under
the default policy and executor be a plain loop. A flush runs the pipeline (``_pipeline``) on
records unless something in it takes intents (``_needs_intents``); then it materializes the
buffer first. A scope used once keeps its buffer after the flush or discard (``intents`` stay
readable, materialized lazily); a tick keeps a frame's entries until its next frame opens,
then removes that many (other threads may have appended meanwhile: see ``_tick.py``).

Feature flags (the buffer's ``keyed``, ``batching``, ``filtering``, ``holding``) turn on as
the entry that needs the coalesce, batch, local-filter or hold stage is added: a stage is
skipped only where no entry ever asked for it, whatever thread appended when.

Provenance of plain records: an ``Intent`` or a full record carries its scope; a plain one
belongs to this scope unless the buffer's origin marks say otherwise (a capture writes them).

Ledger: every intent that enters a flush leaves it exactly one way (see ``FlushStats``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextvars import Token
from time import perf_counter_ns
from types import TracebackType
from typing import Any, Literal, NoReturn, TypeVar

from ._batch import Batch
from ._buffer import Buffer
from ._cadence import Cadence, cadence_of
from ._config import defaults
from ._context import NO_SCOPE, POLICY_GUARD, current_target, resolve
from ._dispatch import dispatch
from ._errors import ScopeStateError, UsageError
from ._executor import Executor, check_executor
from ._flush import FlushContext
from ._intent import NO_OPTIONS, Intent, IntentOptions
from ._observe import Observer, ObserverSet, check_observers
from ._pipeline import run_pipeline
from ._plan import FlushPlan, make_plan
from ._policies import DropAll, Policy, any_judges, check_policy, has_enqueue_hook
from ._record import PLAIN
from ._stats import FlushStats, attach_undispatched, effect_label

__all__ = ["ErrorMode", "Executor", "FlushStats", "Scope", "effect_label"]

ErrorMode = Literal["raise", "continue"]
S = TypeVar("S", bound="Scope")

logger = logging.getLogger("airlock")

NEW, ACTIVE, PENDING, FLUSHED, DISCARDED = "new", "active", "exited", "flushed", "discarded"
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
        "__weakref__",
        "_accepting",
        "_ambient_policies",
        "_buffer",
        "_executor",
        "_observing",
        "_parent",
        "_plain_count",
        "_plain_ns",
        "_plan",
        "_policy",
        "_state",
        "_stats",
        "_timed",
        "_token",
        "errors",
        "observers",
        "order_by",
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
        # Stats are written lazily: after a plain flush (everything dispatched, nothing else
        # to count) only _plain_count (None: _stats is current) and _plain_ns are stored.
        self._stats: FlushStats | None = None
        self._plain_count: int | None = None
        self._plain_ns = 0
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
        plain flushes (``flush_ns``) for a tick created with ``timed=False``."""
        self._timed = True
        return self._current_stats()

    def _current_stats(self) -> FlushStats:
        """``stats`` without turning timing on."""
        stats = self._stats
        if stats is None:
            stats = self._stats = FlushStats()
        count = self._plain_count
        if count is not None:
            self._plain_count = None
            stats.reset()
            if count:
                stats.enqueued = stats.dispatched = count
                stats.flush_ns = self._plain_ns
            stats.pending = self._backlog()
        return stats

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
            self._nest(outer)
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
                self._flush_now()
            elif self._buffer or self._buffer.rich:
                self._release()
            else:  # _release() of an empty scope, inlined
                self._plain_count = 0
                self._state = FLUSHED
            return
        self.exit()
        if self._state is not PENDING:
            return  # a subclass's exit() already flushed or discarded
        cls = type(self)
        try:
            flushing = self.should_flush(exc)
        except BaseException:
            self._discard_now()  # a subclass's should_flush failed: nothing escapes, as for a tick
            raise
        if flushing:
            if cls.flush is Scope.flush:
                self._flush_now()  # the same, without building the list nobody reads
            else:
                self.flush()
        elif cls.discard is Scope.discard:
            self._discard_now()
        else:
            self.discard()

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

    def _open(self) -> None:
        token = self._token = _set_target(self)
        outer = token.old_value
        if outer is _MISSING or outer is NO_SCOPE:
            self._parent = None
            self._ambient_policies = ()
            self._state = ACTIVE
            self._update_accepting()
        else:
            self._nest(outer)

    def _nest(self, outer: Any) -> None:
        """Become active inside the enqueue target ``outer`` (a scope or a policy view)."""
        parent, ambient = resolve(outer)
        self._parent = parent
        # local policies open around this scope, however deep: a view's, else the parent's
        self._ambient_policies = ambient or getattr(parent, "_ambient_policies", ())
        self._state = ACTIVE
        self._update_accepting()

    def _close_context(self) -> None:
        token = self._token
        if token is not None:
            try:
                current_target.reset(token)
            except ValueError:  # the token belongs to another context: keep it for a retry
                raise ScopeStateError(
                    f"cannot exit {self!r} here: it was entered in another context (another "
                    "thread or asyncio task); call exit() where enter() was called"
                ) from None
        self._token = None

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
        self._require_settleable("flush")
        dispatched = self._flush_now(want_intents=True)
        if dispatched is None:
            return self._materialize()
        return [] if dispatched is _NONE_DISPATCHED else dispatched

    def _flush_now(self, want_intents: bool = False) -> list[Intent] | None:
        try:
            dispatched = self._release(want_intents)
        except BaseException:
            if self.observers:
                self._notify_flushed(failing=True)
            raise
        if self.observers:
            self._notify_flushed(failing=False)
        return dispatched

    def discard(self) -> list[Intent]:
        """Throw the buffered intents away without dispatching them; return them.

        Call it after ``exit()``, or on a scope that was never entered; once per scope.
        """
        self._require_settleable("discard")
        discarded = self._materialize()
        self._discard_now()
        return discarded

    def _discard_now(self) -> None:
        self._drop_buffer()
        if self.observers:
            self._notify_flushed(failing=False)

    def _require_settleable(self, action: str) -> None:
        state = self._state
        if state is ACTIVE:
            raise ScopeStateError(
                f"cannot {action} {self!r}: it is still active; call exit() first "
                "(or let the `with` block end)"
            )
        if state is FLUSHED or state is DISCARDED:
            raise ScopeStateError(f"cannot {action} {self!r}: it {self._done_state()}")

    def _done_state(self) -> str:
        """How a scope's state reads in an error message."""
        return {
            NEW: "was never entered",
            ACTIVE: "is active",
            PENDING: "has already been exited",
            FLUSHED: "has already been flushed",
            DISCARDED: "has already been discarded",
        }[self._state]

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

    # -- nesting ---------------------------------------------------------------------------

    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        """Called on each active ancestor (innermost first) when a nested scope flushes.

        Return the intents that may flush now; the rest are captured into this scope.
        Default: return [] (capture all — the outermost scope decides).
        """
        return []

    def _capture(self, entries: list[Any], child: Scope, plain: bool = False) -> None:
        """Take a descendant's entries into this buffer: they keep their provenance (an
        Intent or full record carries its scope; ``child``'s plain records get a mark).
        ``plain``: every entry is a plain record (the buffer stays plain if it was)."""
        self._buffer.capture(entries, child, plain)

    def _offer_to_ancestors(self, entries: list[Any], ctx: FlushContext) -> list[Any]:
        """Let each capturing ancestor (innermost first) take what it captures; return the rest.

        An ancestor with the default ``before_descendant_flushes`` takes everything as it is;
        one that overrides it is shown intents (``_needs_intents`` saw to that). On an error,
        the intents not captured yet are recorded as undispatched on it.
        """
        ancestor = self._parent
        stats = ctx.stats
        try:
            while entries and ancestor is not None:
                if ancestor._captures_descendants():
                    if type(ancestor).before_descendant_flushes is Scope.before_descendant_flushes:
                        ancestor._capture(entries, self)
                        stats.captured += len(entries)
                        return []
                    allowed = ancestor.before_descendant_flushes(self, entries)
                    if not isinstance(allowed, list):
                        raise TypeError(
                            f"{type(ancestor).__qualname__}.before_descendant_flushes must "
                            f"return a list of intents, got {type(allowed).__qualname__}"
                        )
                    allowed_ids = {id(i) for i in allowed}
                    if len(allowed_ids) < len(entries):
                        captured = [i for i in entries if id(i) not in allowed_ids]
                        ancestor._capture(captured, self)
                        stats.captured += len(captured)
                        entries = [i for i in entries if id(i) in allowed_ids]
                ancestor = ancestor._parent
        except BaseException as exc:
            attach_undispatched(exc, None, self._intents_for(entries))
            raise
        return entries

    # -- the buffer ------------------------------------------------------------------------

    def _materialize(self) -> list[Intent]:
        """Turn buffered records into Intents in place (identity is stable from now on)."""
        return self._buffer.materialize(self)

    def _records(self) -> list[Any]:
        """The buffer's entries for a flush that needs no Intent (see ``Buffer.records``)."""
        return self._buffer.records(self)

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

    def _enqueue_intent(
        self,
        task: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: IntentOptions | None,
        local_policies: tuple[Policy, ...],
    ) -> None:
        """The slow enqueue path: hooks, local policies, metadata, batches, inactive scopes."""
        if self._state is not ACTIVE:
            self._enqueue_inactive(task, args, kwargs, options, local_policies)
            return
        if not local_policies:  # a PolicyView over this scope already includes the ambient ones
            local_policies = self._ambient_policies
        entry = self._entry(task, args, kwargs, options, local_policies)
        if type(entry) is tuple and len(entry) == PLAIN:
            self._buffer.append(entry)
        else:
            judged = bool(local_policies) and any_judges(local_policies)
            self._buffer.add(entry, judged)

    def _entry(
        self,
        task: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: IntentOptions | None,
        local_policies: tuple[Policy, ...],
    ) -> Any:
        """A buffer entry: the record the enqueue needs (plain when nothing else is asked
        for), or a hooked Intent when an ``on_enqueue`` or an observer must see one now.

        Checks a batch's payload and a held task's place; the buffer's ``add`` sets the
        flags the entry needs.
        """
        hooked = self._plan.enqueue_hooked or (
            local_policies and any(has_enqueue_hook(p) for p in local_policies)
        )
        if type(task) is Batch:
            task.check_payload(kwargs)
        elif type(task) is Cadence:
            self._check_holds(task)
        elif (
            not hooked and options is None and not local_policies and callable(task)
        ):  # task objects (not callable) go to the executor as full records
            return (task, args, kwargs)
        name, origin, dispatch_options, key = options or NO_OPTIONS
        if not hooked:
            return (
                task, args, kwargs, name, dispatch_options, origin, key, local_policies, self
            )
        intent = Intent(
            task, args, kwargs, name, dispatch_options, origin, key, local_policies, self
        )
        self._run_enqueue_hooks(intent)
        return intent

    def _check_holds(self, task: Cadence) -> None:
        """Refuse a held task (``@airlock.debounce``/``throttle``) where no tick would hold it:
        a scope that is not a tick and has none around it."""
        scope: Scope | None = self
        while scope is not None:
            if getattr(scope, "_holds_across_frames", False):
                return
            scope = scope._parent
        raise UsageError(
            f"{task!r} is held across frames, which only a tick_scope() does, and no tick "
            f"encloses {self!r}; enqueue it inside a frame (`with tick:`), hand it to a tick "
            f"with tick.post(), or call {task.__name__}.func(...) to run it now"
        )

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

    def _enqueue_inactive(
        self,
        task: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        options: IntentOptions | None = None,
        local_policies: tuple[Policy, ...] = (),
    ) -> None:
        """An enqueue into this scope while it is not active: forwarded to
        ``late_enqueue_target()``, else refused through ``enqueue_refused``."""
        target = self.late_enqueue_target()
        if target is not None:
            if target is self:
                raise UsageError(
                    f"{type(self).__qualname__}.late_enqueue_target() returned the scope "
                    "itself; return another scope (or None to refuse late enqueues)"
                )
            target._enqueue_intent(task, args, {} if kwargs is None else kwargs, options,
                                   local_policies)
            return
        self.enqueue_refused(task, self._refusal(task, options))

    def _refusal(self, task: Any, options: IntentOptions | None) -> ScopeStateError:
        return ScopeStateError(
            f"cannot enqueue {effect_label(task, options)} into {self!r}: it "
            f"{self._done_state()} and takes no more intents. Code that outlived its scope "
            "(a task, timer or thread) must open its own: `with airlock.scope():`"
        )

    def _run_enqueue_hooks(self, intent: Intent) -> None:
        # Hooks may run on several threads at once (threads that carry the scope's context,
        # a tick's posts): the guard against enqueueing from a policy is the caller's own
        # context, not a flag on the scope that another thread would see.
        if intent.local_policies or has_enqueue_hook(self._policy):
            token = _set_target(POLICY_GUARD)
            try:
                for local in intent.local_policies:
                    local.on_enqueue(intent)
                self._policy.on_enqueue(intent)
            finally:
                _reset_target(token)
        if self._plan.watching:
            self._observing.tell("enqueued", intent)

    def _drop_buffer(self) -> None:
        """Discard: every buffered intent counts as ``discarded`` (the buffer stays readable
        unless it is reused)."""
        buffer = self._buffer
        stats = self._fresh_stats()
        stats.enqueued = stats.discarded = len(buffer)
        if self._plan.watching and buffer:
            for intent in self._materialize():
                self._tell("discarded", intent)
        self._state = DISCARDED
        self._update_accepting()

    # -- flush -----------------------------------------------------------------------------

    def _capturing_ancestor(self) -> Scope | None:
        """The nearest ancestor that would be asked to capture now, if any."""
        ancestor = self._parent
        while ancestor is not None:
            if ancestor._captures_descendants():
                return ancestor
            ancestor = ancestor._parent
        return None

    def _needs_intents(self) -> bool:
        """Whether this flush must turn every entry into an Intent first: something in it
        takes intents (a policy that judges, an executor other than the default, an
        observer with per-intent hooks, an ``order_by`` over intents, an ancestor that
        chooses what to capture). Otherwise the pipeline runs on records."""
        if not self._plan.on_records:
            return True
        if self._parent is None:
            return False
        ancestor = self._capturing_ancestor()
        return ancestor is not None and (
            type(ancestor).before_descendant_flushes is not Scope.before_descendant_flushes
        )

    def _release(self, want_intents: bool = False) -> list[Intent] | None:
        """Flush: coalesce, filter, offer to ancestors, order, batch, dispatch.

        Returns the entries handed to the executor (Intents when ``want_intents``), or None
        when that is the whole buffer.
        """
        buffer = self._buffer
        rich = buffer.rich
        if not buffer and not rich:
            self._plain_count = 0
            self._state = FLUSHED
            return None
        if not rich and self._plan.plain_loop:
            ancestor = self._capturing_ancestor()
            if ancestor is None:
                self._state = FLUSHED
                self._run_kept(buffer)
                return None
            if (
                ancestor._state is ACTIVE
                and type(ancestor).before_descendant_flushes is Scope.before_descendant_flushes
            ):
                self._state = FLUSHED  # the default ancestor captures all: hand over the tuples
                stats = self._fresh_stats()
                stats.captured = stats.enqueued = len(buffer)
                ancestor._capture(buffer, self, plain=True)
                self._parent = None  # the ancestor's marks hold this scope: no cycle back
                return _NONE_DISPATCHED
        if not rich and type(self._policy) is DropAll and not self._plan.watching:
            self._state = FLUSHED  # plain tuples under DropAll: nothing to build or ask
            stats = self._fresh_stats()
            stats.dropped = stats.enqueued = len(buffer)
            return _NONE_DISPATCHED
        stats = self._fresh_stats()
        started = perf_counter_ns()
        entries = (
            self._materialize() if want_intents or self._needs_intents() else self._records()
        )
        self._state = FLUSHED  # (the entries of the frame are read: see test_tick_threads)
        stats.enqueued = len(entries)
        try:
            entries = run_pipeline(entries, self._flush_context(stats))
        except BaseException as exc:  # the pipeline attached what it did not dispatch
            stats.undispatched = len(getattr(exc, "undispatched_intents", ()))
            raise
        finally:
            stats.flush_ns = perf_counter_ns() - started
            if stats.failures:
                # a reused scope's next flush must take the path that resets the stats, so
                # that this flush's failures (and their intents' arguments) go with it
                buffer.force_general(False)
        if self._parent is not None and stats.captured:
            self._parent = None  # the ancestor holds this scope in its marks: no cycle back
        if stats.failed:
            failed = {id(intent) for intent, _ in stats.failures}
            return [i for i in entries if id(i) not in failed]
        return entries

    def _fresh_stats(self) -> FlushStats:
        """Zeroed stats for a flush that may write any field."""
        stats = self._stats
        if stats is None:
            stats = self._stats = FlushStats()
        else:
            stats.reset()
        self._plain_count = None
        return stats

    def _run_plain(self, buffer: list[Any]) -> int:
        """Call the buffered ``(task, args, kwargs)`` in order: the default-everything flush.
        Return how many entries it took: those in the buffer when it began.

        The entries stay in the buffer: the caller removes what was taken. What is appended
        meanwhile (an effect enqueueing, another thread) is not run here. An entry that is not
        a plain record and reached the buffer without ``_rich`` (a thread's enqueue racing the
        flag) ends the run before it, normally: the rest is left, ``_rich`` set, for a general
        flush.
        """
        taken = buffer.copy()  # a thread reading ``intents`` may convert entries in place
        count = len(taken)
        entries = iter(taken)
        started = perf_counter_ns() if self._timed else 0
        try:
            for task, args, kwargs in entries:
                task(*args, **kwargs)
        except BaseException as exc:
            left = list(entries)
            stopped_at = count - len(left) - 1
            stopped = taken[stopped_at]
            if type(stopped) is tuple and len(stopped) == PLAIN:  # the task itself raised
                self._plain_failed(exc, iter(left), started, count)
                raise
            self._buffer.force_general(False)  # unpacking a richer entry failed: it never ran
            count = stopped_at
        if started:
            self._plain_ns = perf_counter_ns() - started
        self._plain_count = count
        return count

    def _run_kept(self, buffer: list[Any]) -> None:
        """``_run_plain`` for a scope used once: the buffer stays, for ``intents``, and the
        loop runs the live buffer, so a record another thread appends meanwhile runs too (a
        scope has no next frame to take it; a tick's ``_run_kept`` is ``_run_plain``)."""
        entries = iter(buffer)
        started = perf_counter_ns()
        try:
            for task, args, kwargs in entries:
                task(*args, **kwargs)
        except BaseException as exc:
            self._plain_failed(exc, entries, started)
            raise
        self._plain_ns = perf_counter_ns() - started
        self._plain_count = len(buffer)

    def _plain_failed(
        self, exc: BaseException, remaining: Iterator[Any], started: int, count: int | None = None
    ) -> None:
        """A plain flush of the first ``count`` entries (default: all) stopped at a failing
        task: record it on ``exc`` and in the stats."""
        total = len(self._buffer) if count is None else count
        failed_at = total - sum(1 for _ in remaining) - 1
        intents = self._materialize()[:total]
        stats = self._fresh_stats()
        stats.enqueued = len(intents)
        stats.dispatched = failed_at
        stats.failed = 1
        rest = intents[failed_at + 1 :]
        stats.undispatched = len(rest)
        stats.flush_ns = perf_counter_ns() - started if started else 0
        attach_undispatched(exc, intents[failed_at], rest)

    def _flush_context(self, stats: FlushStats) -> FlushContext:
        """What this flush's stages see (see ``_flush``): its configuration, its ledger, the
        flags its enqueues set, and this scope's own stages. A scope flushes once: a context
        of its own per flush (a tick keeps one)."""
        return self._prepare(self._new_flush_context(), stats)

    def _new_flush_context(self) -> FlushContext:
        return FlushContext(self, self._tell, self._intent_of, self._intents_for, self._dispatch)

    def _prepare(self, ctx: FlushContext, stats: FlushStats) -> FlushContext:
        ctx.stats = stats
        ctx.policy = self._policy
        ctx.executor = self._executor
        ctx.order_by = self.order_by
        ctx.errors = self.errors
        ctx.watching = watching = self._plan.watching
        if watching:  # (the set's own method: a call less per intent than Scope._tell)
            ctx.tell = self._observing.tell
        buffer = self._buffer
        ctx.filtering = buffer.filtering
        ctx.keyed = buffer.keyed
        ctx.batching = buffer.batching
        ctx.capture = None if self._parent is None else self._offer_to_ancestors
        ctx.hold = self._hold if buffer.holding else None
        return ctx

    def _hold(self, entries: list[Any], ctx: FlushContext) -> list[Any]:
        """The hold stage (the buffer's ``holding`` flag). A scope holds nothing across
        flushes: held tasks that reach its own flush (an ancestor that chose not to capture
        them) run now, as their function. A tick overrides it."""
        return [
            entry if cadence is None else cadence.released(entry)
            for entry, cadence in ((entry, cadence_of(entry)) for entry in entries)
        ]

    def _dispatch(self, entries: list[Any], ctx: FlushContext) -> None:
        """The pipeline's last stage (a tick overrides it to apply its budgets)."""
        dispatch(entries, ctx)

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
