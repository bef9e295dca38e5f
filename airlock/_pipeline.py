"""The flush pipeline: withdraw -> coalesce -> filter -> capture -> hold -> order -> batch ->
dispatch.

Each stage is a function ``(entries, ctx) -> entries`` of plain data (see ``_flush``): it takes
the flush's entries (records or Intents, see ``_record``), returns those that go on, and counts
what it decides into ``ctx.stats``. A stage nothing asks for is skipped: keys, batches, local
filters and held tasks (``@airlock.debounce``/``throttle``) are flagged by the enqueues that use
them; the rest is configuration. Capture (nesting) and hold (a tick keeps held effects across
frames) are the scope's own stages, and dispatch is the scope's too (a tick applies its budgets
there): the context carries them as callables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _batch, _coalesce, _dispatch, _ordering
from ._filter import filter_by_policies
from ._stats import attach_undispatched
from ._withdraw import withdraw

if TYPE_CHECKING:
    from types import ModuleType

    from ._flush import FlushContext, Stage

__all__ = ["run_pipeline", "use_stages"]

#: the stages that run per intent: the pure ones, or their compiled twins (``use_stages``)
coalesce: Stage = _coalesce.coalesce
order: Stage = _ordering.order
merge_batches: Stage = _batch.merge_batches


def order_by_phase_and_merge(entries: list[Any], ctx: FlushContext) -> list[Any]:
    """Stages 5 and 6 at once (the pure core's, when both run): a flush ordered by
    ``by_phase`` whose batch entries name no phase of their own (each batch's entries then
    share the batch's phase) is merged first, each batch's last entry standing for its merged
    call in the sort, which then sorts a few entries instead of every payload. The outcome is
    ordering, then merging, exactly (a stable sort keeps each batch's payloads in order and its
    last entry last); any other flush, or a sort that fails, runs the two stages one after the
    other. (-13% instructions on the pure GameLoop frame; the compiled order stage ranks
    records in C, so the kernel runs them one after the other.)"""
    key = getattr(ctx.order_by, "record_key", None)
    gathered = _batch.gather(entries)
    if gathered is None:
        return _ordering.order(entries, ctx)
    if gathered.phased or key is None:
        return _batch.merge_batches(_ordering.order(entries, ctx), ctx)
    folded = _batch.fold(entries, gathered)
    try:
        ordered = sorted(folded, key=key)
    except Exception:  # the order stage says why, from every entry
        return _batch.merge_batches(_ordering.order(entries, ctx), ctx)
    ctx.stats.batched = len(entries) - len(folded)
    return _batch.merged(ordered, gathered)


#: stages 5 and 6 fused where that is cheaper (None: one after the other)
order_and_merge: Stage | None = order_by_phase_and_merge


def use_stages(native: ModuleType | None) -> None:
    """Run the per-intent stages compiled (``native``: ``airlock._speedups``, whose stages do
    the common case and hand the rest to the pure ones) or, for None, pure. ``_kernel``
    decides, once, at import."""
    global coalesce, order, merge_batches, order_and_merge
    if native is None:
        coalesce, order, merge_batches = _coalesce.coalesce, _ordering.order, _batch.merge_batches
        order_and_merge = order_by_phase_and_merge
    else:
        coalesce, order, merge_batches = native.coalesce, native.order, native.merge_batches
        order_and_merge = None


def run_pipeline(entries: list[Any], ctx: FlushContext) -> list[Any]:
    """Run ``entries`` through every stage ``ctx`` asks for; return those handed to dispatch.

    An error that escapes a stage carries ``undispatched_intents``: the entries the stage
    it came from still held (a stage that knows better attaches its own first). (The compiled
    kernel's close_rich inlines it for a tick's frame: keep in sync.)"""
    try:
        judged = ctx.filtering or ctx.judging
        if judged:
            entries = withdraw(entries, ctx)
        if ctx.keyed:
            entries = coalesce(entries, ctx)
        if judged:
            entries = filter_by_policies(entries, ctx)
        if ctx.capture is not None:
            entries = ctx.capture(entries, ctx)
        if ctx.hold is not None:
            entries = ctx.hold(entries, ctx)
        merge = merge_batches if ctx.batching else None
        if ctx.order_by is not None and entries:
            if merge is not None and order_and_merge is not None:
                entries, merge = order_and_merge(entries, ctx), None
            else:
                entries = order(entries, ctx)
        if merge is not None:
            entries = merge(entries, ctx)
        dispatch = ctx.dispatch
        if dispatch is None:  # the default executor, nobody watching: the loop (compiled or
            _dispatch.call_each(entries, ctx)  # pure)
        else:
            dispatch(entries, ctx)
    except BaseException as exc:  # (a dispatcher names its own; an interrupt before it, none)
        if getattr(exc, "undispatched_intents", None) is None:
            attach_undispatched(exc, None, ctx.intents_for(entries))
        raise
    return entries
