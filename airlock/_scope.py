"""Scopes decide *when* effects escape: they buffer intents and release them at flush.

Lifecycle: NEW -> ACTIVE (entered) -> FLUSHED | DISCARDED, or PENDING when ``should_flush``
declined without an error (a deferred scope: call ``flush()`` or ``discard()`` later).

Buffer invariant: ``_buffer`` holds plain ``(task, args, kwargs)`` tuples and ``Intent``
objects, in arrival order. ``_rich`` is False only while every entry is a plain tuple, which
is what lets a flush under the default policy and executor be a plain loop.

Provenance of plain tuples: an ``Intent`` carries its scope; a tuple belongs to this scope
unless ``_origins`` says otherwise. ``_origins`` is None or a list of ``(index, scope)`` marks
in index order: tuples from ``index`` on were enqueued into ``scope`` (None: this scope), up
to the next mark. Plain capture writes the marks; materializing consumes them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextvars import Token
from time import perf_counter_ns
from types import TracebackType
from typing import Any, Literal, TypeVar

from ._batch import Batch, merge_batches
from ._config import defaults, hot_path_flags
from ._context import NO_SCOPE, POLICY_GUARD, current_target, resolve
from ._errors import PolicyEnqueueError, ScopeStateError
from ._intent import NO_OPTIONS, Intent, IntentOptions
from ._observe import Observer, check_observer
from ._policies import DropAll, Policy, check_policy, is_allow_all
from .integrations.executors.sync import sync_executor

__all__ = ["ErrorMode", "Executor", "FlushStats", "Scope"]

Executor = Callable[[Intent], Any]
ErrorMode = Literal["raise", "continue"]
S = TypeVar("S", bound="Scope")

logger = logging.getLogger("airlock")

NEW, ACTIVE, PENDING, FLUSHED, DISCARDED = "new", "active", "pending", "flushed", "discarded"
_MISSING = Token.MISSING
_set_target = current_target.set
_reset_target = current_target.reset
_ERROR_MODES = ("raise", "continue")


class FlushStats:
    """Numbers for one flush (for a tick: one frame). Reused in place; ``copy()`` to keep one."""

    __slots__ = (
        "batched",
        "carried",
        "coalesced",
        "discarded",
        "dispatched",
        "dropped",
        "enqueued",
        "failed",
        "failures",
        "flush_ns",
    )

    def __init__(self) -> None:
        self.failures: list[tuple[Intent, BaseException]] = []
        self.reset()

    def reset(self) -> None:
        #: intents in the buffer when the flush began (own, captured and handed over)
        self.enqueued = 0
        #: intents handed to the executor without error
        self.dispatched = 0
        #: intents refused by a policy (local or scope)
        self.dropped = 0
        #: intents replaced by a later one with the same ``_key``
        self.coalesced = 0
        #: batch intents folded into another call of the same batch effect
        self.batched = 0
        #: intents released but left for the next frame by a budget
        self.carried = 0
        #: intents whose executor raised
        self.failed = 0
        #: intents thrown away with their scope (it exited with an error, or discard())
        self.discarded = 0
        #: wall time of the flush in nanoseconds (0 for an empty one). A tick times its
        #: frames from the first read of its ``stats`` on: a loop that never looks pays nothing
        self.flush_ns = 0
        if self.failures:
            self.failures = []

    def copy(self) -> FlushStats:
        other = FlushStats()
        for name in FlushStats.__slots__:
            setattr(other, name, getattr(self, name))
        other.failures = list(self.failures)
        return other

    def as_dict(self) -> dict[str, int]:
        return {
            n: getattr(self, n) for n in FlushStats.__slots__ if n != "failures"
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
        return f"FlushStats({fields})"


def attach_undispatched(exc: BaseException, failed: Intent | None, rest: list[Intent]) -> None:
    """Record on ``exc`` which intent failed and which were never dispatched."""
    exc.failed_intent = failed  # type: ignore[attr-defined]
    exc.undispatched_intents = rest  # type: ignore[attr-defined]
    if sys.version_info >= (3, 11):
        exc.add_note(
            f"airlock: flush aborted at {failed}; {len(rest)} intent(s) not dispatched "
            "(see .undispatched_intents)"
        )


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
        "_enqueue_hooked",
        "_executor",
        "_fast_flush",
        "_in_policy",
        "_origins",
        "_parent",
        "_plain_count",
        "_plain_ns",
        "_policy",
        "_rich",
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
        self._origins: list[tuple[int, Scope | None]] | None = None
        self._buffer: list[Any] = []  # never replaced: a tick's frame closures hold it
        self._rich = False
        self._state = NEW
        self._parent = None
        self._token = None
        self._ambient_policies: tuple[Policy, ...] = ()
        self._in_policy = False
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
            self._enqueue_hooked, self._fast_flush = defaults.paths()
            return
        self._policy = defaults.policy if policy is None else check_policy(policy)
        if executor is None:
            executor = defaults.executor
        elif not callable(executor):
            raise TypeError(f"executor must be a callable taking an Intent, got {executor!r}")
        self._executor = executor
        if order_by is not None and not callable(order_by):
            raise TypeError(f"order_by must be a key function over intents, got {order_by!r}")
        self.order_by = order_by
        if errors not in _ERROR_MODES:
            raise ValueError(f"errors must be 'raise' or 'continue', got {errors!r}")
        self.errors = errors
        self.observers = (
            tuple(check_observer(o) for o in observers) if observers else ()
        )
        self._configure_paths()

    #: True when ``_configure_paths`` is Scope's own, so a default scope may copy the defaults.
    _plain_paths = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_lifecycle = (
            cls.exit is Scope.exit and cls.should_flush is Scope.should_flush
            and cls.enter is Scope.enter
        )
        cls._plain_paths = cls._configure_paths is Scope._configure_paths

    @property
    def stats(self) -> FlushStats:
        """Numbers of the last flush (see ``FlushStats``). Reading them turns on the timing of
        plain flushes (``flush_ns``) for a tick created with ``timed=False``."""
        self._timed = True
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
        return stats

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
        if not callable(executor):
            raise TypeError(f"executor must be a callable taking an Intent, got {executor!r}")
        self._executor = executor
        self._configure_paths()

    def _configure_paths(self) -> None:
        """Precompute which work enqueue and flush may skip (rerun on any configuration change)."""
        self._enqueue_hooked, self._fast_flush = hot_path_flags(
            self._policy, self._executor, self.order_by, self.errors, self.observers
        )
        self._update_accepting()

    def _update_accepting(self) -> None:
        self._accepting = (
            self._state is ACTIVE
            and not self._enqueue_hooked
            and not self._ambient_policies
            and not self._in_policy
        )

    # -- lifecycle -------------------------------------------------------------------------

    #: True when enter/exit/should_flush are Scope's own, so ``with`` may inline them.
    _plain_lifecycle = True

    def __enter__(self: S) -> S:
        if self._plain_lifecycle and self._state is NEW:
            self._open()
            return self
        return self.enter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._plain_lifecycle and exc is None and self._state is ACTIVE:
            _reset_target(self._token)  # type: ignore[arg-type]  # set by __enter__
            self._token = None
            self._state = PENDING
            self._accepting = False
            self._release()
            if self.observers:
                self._notify_flushed()
            return
        self.exit(exc)

    def enter(self: S) -> S:
        """Make this the current scope of the calling context."""
        if self._state is not NEW:
            raise ScopeStateError(
                f"{self!r} was already entered (state: {self._state}); create a new scope "
                "per unit of work, or use airlock.tick_scope() for a reusable per-frame scope"
            )
        self._open()
        return self

    def _open(self) -> None:
        token = self._token = _set_target(self)
        outer = token.old_value
        if outer is _MISSING or outer is NO_SCOPE:
            self._parent = None
            self._ambient_policies = ()
        else:
            parent, ambient = resolve(outer)
            self._parent = parent
            # local policies open around this scope, however deep: a view's, else the parent's
            self._ambient_policies = ambient or getattr(parent, "_ambient_policies", ())
        self._state = ACTIVE
        self._update_accepting()

    def _close_context(self) -> None:
        token = self._token
        self._token = None
        if token is not None:
            current_target.reset(token)

    def exit(self, error: BaseException | None = None) -> None:
        """Leave the scope: flush if ``should_flush(error)``, else discard on error, else defer."""
        if self._state is DISCARDED and self._token is None:
            return  # discard() was called inside the block: it already left the context
        if self._state is not ACTIVE:
            raise ScopeStateError(f"{self!r} is not active (state: {self._state}); cannot exit it")
        self._close_context()
        self._state = PENDING
        self._update_accepting()
        if self.should_flush(error):
            self._release()
        elif error is not None:
            self._drop_buffer()
        if self.observers and self._state is not PENDING:
            self._notify_flushed()

    def should_flush(self, error: BaseException | None) -> bool:
        """Whether to flush on exit. Default: flush on a clean exit, discard on any exception."""
        return error is None

    def flush(self) -> None:
        """Release a pending (exited, not yet flushed) scope's intents now."""
        self._require_pending("flush")
        self._release()
        if self.observers:
            self._notify_flushed()

    def discard(self) -> None:
        """Drop every buffered intent of a pending or active scope without dispatching it."""
        if self._state in (FLUSHED, DISCARDED):
            raise ScopeStateError(f"cannot discard {self!r}: it was already {self._state}")
        if self._state is ACTIVE:
            self._close_context()
        self._drop_buffer()
        if self.observers:
            self._notify_flushed()

    def _notify_flushed(self) -> None:
        for observer in self.observers:
            observer.flushed(self)

    def _require_pending(self, action: str) -> None:
        if self._state is not PENDING:
            hint = {
                ACTIVE: "it is still active; exit the `with` block first",
                NEW: "it was never entered",
            }.get(self._state, f"it was already {self._state}")
            raise ScopeStateError(f"cannot {action} {self!r}: {hint}")

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

    # -- nesting ---------------------------------------------------------------------------

    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        """Called on each active ancestor (innermost first) when a nested scope flushes.

        Return the intents that may flush now; the rest are captured into this scope.
        Default: return [] (capture all — the outermost scope decides).
        """
        return []

    def _capture(self, intents: list[Intent]) -> None:
        """Take a descendant's intents into this buffer (they keep their provenance)."""
        self._buffer.extend(intents)
        self._rich = True

    def _capture_plain(self, child: Scope) -> None:
        """Take a plain descendant's whole buffer as tuples, recording provenance as marks."""
        buffer = self._buffer
        start = len(buffer)
        origins = self._origins
        if origins is None:
            origins = self._origins = []
        origins.append((start, child))
        if child._origins:
            origins.extend((start + index, owner or child) for index, owner in child._origins)
        buffer.extend(child._buffer)
        origins.append((len(buffer), None))
        child._buffer.clear()
        child._origins = None

    def _offer_to_ancestors(self, intents: list[Intent]) -> list[Intent]:
        ancestor = self._parent
        while intents and ancestor is not None:
            if ancestor._captures_descendants():
                allowed = ancestor.before_descendant_flushes(self, intents)
                if not isinstance(allowed, list):
                    raise TypeError(
                        f"{type(ancestor).__qualname__}.before_descendant_flushes must return a "
                        f"list of intents, got {type(allowed).__qualname__}"
                    )
                allowed_ids = {id(i) for i in allowed}
                if len(allowed_ids) < len(intents):
                    ancestor._capture([i for i in intents if id(i) not in allowed_ids])
                    intents = [i for i in intents if id(i) in allowed_ids]
            ancestor = ancestor._parent
        return intents

    # -- the buffer ------------------------------------------------------------------------

    def _materialize(self) -> list[Intent]:
        """Turn buffered tuples into Intents in place (identity is stable from now on)."""
        buffer = self._buffer
        origins = self._origins
        if self._rich and origins is None and all(type(e) is Intent for e in buffer):
            return list(buffer)
        marks = iter(origins or ())
        mark = next(marks, None)
        owner: Scope = self
        for index, entry in enumerate(buffer):
            while mark is not None and mark[0] <= index:
                owner = mark[1] or self
                mark = next(marks, None)
            if type(entry) is tuple:
                task, args, kwargs = entry
                buffer[index] = Intent(task, args, kwargs, scope=owner)
        self._origins = None
        self._rich = True
        return list(buffer)

    @property
    def intents(self) -> list[Intent]:
        """Every intent in the buffer (own and captured), in arrival order."""
        return self._materialize()

    @property
    def own_intents(self) -> list[Intent]:
        """Intents enqueued directly into this scope."""
        return [i for i in self._materialize() if i.scope is self]

    @property
    def captured_intents(self) -> list[Intent]:
        """Intents captured from nested scopes."""
        return [i for i in self._materialize() if i.scope is not self]

    def _enqueue_intent(
        self,
        task: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: IntentOptions | None,
        local_policies: tuple[Policy, ...],
    ) -> None:
        """The slow enqueue path: hooks, local policies, metadata, batches, inactive scopes."""
        if self._in_policy:
            raise PolicyEnqueueError(
                f"a policy tried to enqueue {getattr(task, '__qualname__', task)!r}; policies "
                "only observe and filter — enqueue from domain code instead"
            )
        if self._state is not ACTIVE:
            self._enqueue_inactive(task, args, kwargs, options, local_policies)
            return
        if not local_policies:  # a PolicyView over this scope already includes the ambient ones
            local_policies = self._ambient_policies
        entry = self._entry(task, args, kwargs, options, local_policies)
        self._buffer.append(entry)
        if type(entry) is Intent:
            self._rich = True

    def _entry(
        self,
        task: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: IntentOptions | None,
        local_policies: tuple[Policy, ...],
    ) -> Any:
        """A buffer entry: the plain tuple when nothing needs an Intent, else a hooked Intent."""
        if (
            options is None and not local_policies and not self._enqueue_hooked
            and type(task) is not Batch
        ):
            return (task, args, kwargs)
        name, origin, dispatch_options, key = options or NO_OPTIONS
        intent = Intent(
            task, args, kwargs, name, dispatch_options, origin, key, local_policies, self
        )
        if type(task) is Batch:
            task.check_payload(intent)
        if local_policies or self._enqueue_hooked:
            self._run_enqueue_hooks(intent)
        return intent

    def _enqueue_inactive(self, task: Callable[..., Any], *rest: Any) -> None:
        raise ScopeStateError(
            f"cannot enqueue {getattr(task, '__qualname__', task)!r} into {self!r}: it is "
            f"{self._state}. A task or thread that outlived its scope must open its own "
            "(`with airlock.scope():`)"
        )

    def _run_enqueue_hooks(self, intent: Intent) -> None:
        self._in_policy = True
        self._update_accepting()
        try:
            for local in intent.local_policies:
                local.on_enqueue(intent)
            self.policy.on_enqueue(intent)
        finally:
            self._in_policy = False
            self._update_accepting()
        for observer in self.observers:
            observer.enqueued(intent)

    def _drop_buffer(self) -> None:
        buffer = self._buffer
        self._fresh_stats().discarded = len(buffer)
        if self.observers and buffer:
            for intent in self._materialize():
                for observer in self.observers:
                    observer.discarded(intent)
        buffer.clear()
        self._origins = None
        self._rich = False
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

    def _release(self) -> None:
        """Flush: coalesce, filter, offer to ancestors, order, batch, dispatch."""
        buffer = self._buffer
        if not buffer and not self._rich:
            self._plain_count = 0
            self._state = FLUSHED
            return
        if not self._rich and self._fast_flush:
            ancestor = self._capturing_ancestor()
            if ancestor is None:
                self._state = FLUSHED
                self._run_plain(buffer)
                return
            if (
                ancestor._state is ACTIVE
                and type(ancestor).before_descendant_flushes is Scope.before_descendant_flushes
            ):
                self._state = FLUSHED  # the default ancestor captures all: hand over the tuples
                self._fresh_stats().enqueued = len(buffer)
                ancestor._capture_plain(self)
                return
        if not self._rich and type(self._policy) is DropAll and not self.observers:
            self._state = FLUSHED  # plain tuples under DropAll: nothing to build or ask
            stats = self._fresh_stats()
            stats.dropped = stats.enqueued = len(buffer)
            buffer.clear()
            self._origins = None
            return
        stats = self._fresh_stats()
        started = perf_counter_ns()
        intents = self._materialize()
        buffer.clear()
        self._rich = False
        self._state = FLUSHED
        try:
            stats.enqueued = len(intents)
            try:
                intents = self._coalesce(intents)
                intents = self._filter(intents)
                intents = self._offer_to_ancestors(intents)
                if self.order_by is not None:
                    intents.sort(key=self.order_by)
                intents, stats.batched = merge_batches(intents)
            except BaseException as exc:
                attach_undispatched(exc, None, intents)
                raise
            self._dispatch(intents)
        finally:
            stats.flush_ns = perf_counter_ns() - started

    def _fresh_stats(self) -> FlushStats:
        """Zeroed stats for a flush that may write any field."""
        stats = self._stats
        if stats is None:
            stats = self._stats = FlushStats()
        else:
            stats.reset()
        self._plain_count = None
        return stats

    def _run_plain(self, buffer: list[Any]) -> None:
        """Call every buffered ``(task, args, kwargs)`` in order: the default-everything flush."""
        count = len(buffer)
        entries = iter(buffer)
        started = perf_counter_ns() if self._timed else 0
        try:
            for task, args, kwargs in entries:
                task(*args, **kwargs)
        except BaseException as exc:
            self._plain_failed(exc, entries, started)
            raise
        finally:
            buffer.clear()
            self._origins = None
        if started:
            self._plain_ns = perf_counter_ns() - started
        self._plain_count = count

    def _plain_failed(self, exc: BaseException, remaining: Iterator[Any], started: int) -> None:
        """A plain flush stopped at a failing task: record it on ``exc`` and in the stats."""
        failed_at = len(self._buffer) - sum(1 for _ in remaining) - 1
        intents = self._materialize()
        self._rich = False  # the caller clears the buffer
        stats = self._fresh_stats()
        stats.enqueued = len(intents)
        stats.dispatched = failed_at
        stats.failed = 1
        stats.flush_ns = perf_counter_ns() - started if started else 0
        attach_undispatched(exc, intents[failed_at], intents[failed_at + 1 :])

    def _coalesce(self, intents: list[Intent]) -> list[Intent]:
        last: dict[object, Intent] = {}
        for intent in intents:
            if intent.key is not None:
                last[intent.key] = intent
        if not last:
            return intents
        survivors = [i for i in intents if i.key is None or last[i.key] is i]
        self.stats.coalesced = len(intents) - len(survivors)
        if self.observers:
            kept = {id(i) for i in survivors}
            for intent in intents:
                if id(intent) not in kept:
                    for observer in self.observers:
                        observer.coalesced(intent)
        return survivors

    def _filter(self, intents: list[Intent]) -> list[Intent]:
        """Keep the intents that the local policies (of own intents) and the scope policy allow."""
        policy = self._policy
        policy_allows = None if is_allow_all(policy) else policy.allows
        if policy_allows is None and not any(i.local_policies for i in intents):
            return intents
        kept: list[Intent] = []
        keep = kept.append
        observers = self.observers
        token = current_target.set(POLICY_GUARD)
        try:
            for intent in intents:
                local = intent.local_policies
                if (
                    local and intent.scope is self and not all(p.allows(intent) for p in local)
                ) or (policy_allows is not None and not policy_allows(intent)):
                    for observer in observers:
                        observer.dropped(intent)
                else:
                    keep(intent)
        finally:
            current_target.reset(token)
        self.stats.dropped += len(intents) - len(kept)
        return kept

    def _dispatch(self, intents: list[Intent]) -> None:
        """Hand each intent to the executor, in order (fail-fast unless errors='continue')."""
        execute = self._executor
        direct = execute is sync_executor  # same call, one Python frame less per intent
        stats = self.stats
        observers = self.observers
        keep_going = self.errors == "continue"
        dispatched = 0
        remaining = iter(intents)
        try:
            for intent in remaining:
                try:
                    if direct:
                        intent.task(*intent.args, **intent.kwargs)
                    else:
                        execute(intent)
                except Exception as exc:
                    stats.failed += 1
                    for observer in observers:
                        observer.failed(intent, exc)
                    if not keep_going:
                        attach_undispatched(exc, intent, list(remaining))
                        raise
                    stats.failures.append((intent, exc))
                    logger.error("airlock: %s failed", intent, exc_info=exc)
                except BaseException as exc:
                    attach_undispatched(exc, intent, list(remaining))
                    raise
                else:
                    dispatched += 1
                    for observer in observers:
                        observer.dispatched(intent)
        finally:
            stats.dispatched += dispatched

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__} {self._state} intents={len(self._buffer)}>"
