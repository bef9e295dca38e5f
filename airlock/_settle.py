"""Settling a scope: its flush through the pipeline, or its discard, with the ledger of each.

Rules:
- ``Scope._release`` chooses the flush: the plain loop (``_plain``), a plain hand-over to the
  capturing ancestor (``_nesting``), or the pipeline: ``run_flush`` runs it on the entries
  ``_release`` read and settles the ledger (undispatched on an error, the flush's time, the
  failed entries left out of what it returns).
- Before each pipeline flush the scope fills a ``FlushContext`` (``prepare``): its
  configuration, its ledger, the flags its enqueues set and its own stages (capture, hold,
  dispatch). A scope makes one per flush; a tick keeps one (``TickScope._flush_context``).
- A discard runs no stage: every entry counts as ``discarded`` (``drop_buffer``).
- Observers hear ``flushed`` after the flush or discard, failing or not (``flush_now``,
  ``discard_now``).
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from ._errors import ScopeStateError
from ._flush import FlushContext
from ._ledger import fresh_stats
from ._nesting import ancestor_chooses, offer_to_ancestors
from ._pipeline import run_pipeline
from ._states import ACTIVE, DISCARDED, FLUSHED

if TYPE_CHECKING:
    from ._intent import Intent
    from ._scope import Scope
    from ._stats import FlushStats

__all__ = [
    "discard_now", "drop_all", "drop_buffer", "flush_context", "flush_now", "needs_intents",
    "new_flush_context", "prepare", "require_settleable", "run_flush", "settle",
]


def require_settleable(scope: Scope, action: str) -> None:
    """Refuse ``flush()``/``discard()`` (``action``) of a scope that is active or settled."""
    state = scope._state
    if state is ACTIVE:
        raise ScopeStateError(
            f"cannot {action} {scope!r}: it is still active; call exit() first "
            "(or let the `with` block end)"
        )
    if state is FLUSHED or state is DISCARDED:
        raise ScopeStateError(f"cannot {action} {scope!r}: it {scope._done_state()}")


def needs_intents(scope: Scope) -> bool:
    """Whether a flush of ``scope`` must turn every entry into an Intent first: something in
    it takes intents (a policy that judges, an executor other than the default, an observer
    with per-intent hooks, an ``order_by`` over intents, an ancestor that chooses what to
    capture). Otherwise the pipeline runs on records. (Inlined in ``Scope._release``.)"""
    return not scope._plan.on_records or (scope._parent is not None and ancestor_chooses(scope))


def flush_now(scope: Scope, want_intents: bool = False) -> list[Intent] | None:
    """Flush ``scope`` (``Scope._release``), then tell its observers ``flushed``."""
    try:
        dispatched = scope._release(want_intents)
    except BaseException:
        if scope.observers:
            scope._notify_flushed(failing=True)
        raise
    if scope.observers:
        scope._notify_flushed(failing=False)
    return dispatched


def settle(scope: Scope, error: BaseException | None, own_flush: bool, own_discard: bool) -> None:
    """The end of a ``with`` block that ``Scope.__exit__`` does not inline, after ``exit()``:
    ``flush()`` or ``discard()``, as ``should_flush(error)`` says. ``own_flush``,
    ``own_discard``: the scope's are Scope's own, run without building the list they
    return."""
    try:
        flushing = scope.should_flush(error)
    except BaseException:
        # a subclass's should_flush failed: nothing escapes, as for a tick
        discard_now(scope, failing=True)
        raise
    if flushing:
        if own_flush:
            flush_now(scope)
        else:
            scope.flush()
    elif own_discard:
        discard_now(scope, failing=error is not None)  # (the block's error goes on)
    else:
        scope.discard()


def discard_now(scope: Scope, failing: bool = False) -> None:
    """Discard ``scope``'s entries, then tell its observers ``flushed``. ``failing``: an error
    goes on from here (the ``with`` block's): an observer's error is logged, not raised in
    its place."""
    drop_buffer(scope)
    if scope.observers:
        scope._notify_flushed(failing=failing)


def drop_buffer(scope: Scope) -> None:
    """Discard: every buffered intent counts as ``discarded`` (the buffer stays readable
    unless it is reused)."""
    count = len(scope._buffer)  # (read once: a tick's later arrivals are the next frame's)
    stats = fresh_stats(scope)
    stats.enqueued = stats.discarded = count
    if scope._plan.watching and count:
        for intent in scope._materialize()[:count]:
            scope._tell("discarded", intent)
    scope._state = DISCARDED
    scope._update_accepting()


def drop_all(scope: Scope) -> None:
    """The flush of plain records under ``DropAll`` with nothing watching: all dropped."""
    scope._state = FLUSHED
    stats = fresh_stats(scope)
    stats.dropped = stats.enqueued = len(scope._buffer)


def run_flush(scope: Scope, entries: list[Any], stats: FlushStats, started: int) -> list[Any]:
    """Run ``entries`` (what ``scope``'s flush read, from ``started``) through the pipeline;
    return those handed to the executor, less those that failed. (The compiled kernel's
    close_rich inlines it for a tick's frame: keep in sync.)"""
    stats.enqueued = len(entries)
    try:
        entries = run_pipeline(entries, scope._flush_context(stats))
    except BaseException as exc:  # the pipeline attached what it did not dispatch
        stats.undispatched = len(getattr(exc, "undispatched_intents", ()))
        raise
    finally:
        stats.flush_ns = perf_counter_ns() - started
        if stats.failures:
            # a reused scope's next flush must take the path that resets the stats, so
            # that this flush's failures (and their intents' arguments) go with it
            scope._buffer.force_general(False)
    if scope._parent is not None and stats.captured:
        scope._parent = None  # the ancestor holds this scope in its marks: no cycle back
    if stats.failed:
        failed = {id(intent) for intent, _ in stats.failures}
        return [i for i in entries if id(i) not in failed]
    return entries


def flush_context(scope: Scope, stats: FlushStats) -> FlushContext:
    """``Scope._flush_context``: a new context, prepared (a scope flushes once)."""
    return prepare(scope, new_flush_context(scope), stats)


def new_flush_context(scope: Scope) -> FlushContext:
    """A flush context for ``scope``: what stays for its life (its callbacks)."""
    return FlushContext(scope, scope._tell, scope._intent_of, scope._intents_for, None)


def prepare(scope: Scope, ctx: FlushContext, stats: FlushStats) -> FlushContext:
    """Fill ``ctx`` for a flush of ``scope`` counted in ``stats``: the configuration, the flags
    its enqueues set, and the scope's own stages (capture when nested, hold when holding)."""
    ctx.stats = stats
    ctx.policy = scope._policy
    ctx.executor = scope._executor
    ctx.order_by = scope.order_by
    ctx.errors = scope.errors
    plan = scope._plan
    ctx.watching = watching = plan.watching
    ctx.judging = plan.judging
    ctx.dispatch = plan.dispatcher
    if watching:  # (the set's own method: a call less per intent than Scope._tell)
        ctx.tell = scope._observing.tell
    buffer = scope._buffer
    ctx.filtering = buffer.filtering
    ctx.keyed = buffer.keyed
    ctx.batching = buffer.batching
    ctx.capture = None if scope._parent is None else offer_to_ancestors
    ctx.hold = scope._hold if buffer.holding else None
    return ctx
