"""The flush pipeline: coalesce -> filter -> capture -> hold -> order -> batch -> dispatch.

Each stage is a short function in its own module, takes the flush's entries (records or
Intents, see ``_record``) and returns those that go on, counting what it decides into the
ledger (``FlushStats``). A stage nothing asks for is skipped: keys, batches and local filters
and held tasks (``@airlock.debounce``/``throttle``) are flagged by the enqueues that use them
(``Scope._entry``); the rest is configuration. Capture is the scope's own business (nesting),
so that stage calls back into the scope, as do hold (a tick keeps the held effects and the
clock) and dispatch (a tick applies its budgets there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._batch import merge_batches
from ._coalesce import coalesce
from ._filter import filter_by_policies
from ._ordering import order
from ._stats import attach_undispatched

if TYPE_CHECKING:
    from ._scope import Scope
    from ._stats import FlushStats

__all__ = ["run_pipeline"]


def run_pipeline(scope: Scope, entries: list[Any], stats: FlushStats) -> list[Any]:
    """Run ``entries`` through every stage; return those handed to the executor.

    An error that escapes a stage carries ``undispatched_intents``: the entries the stage
    it came from still held (a stage that knows better attaches its own first)."""
    try:
        if getattr(scope, "_keyed", False):
            entries = coalesce(scope, entries, stats)
        if not scope._fast_flush or getattr(scope, "_filtering", False):
            entries = filter_by_policies(scope, entries, stats)
        if scope._parent is not None:
            entries = scope._offer_to_ancestors(entries, stats)
        if getattr(scope, "_holding", False):
            entries = scope._hold(entries, stats)
        if scope.order_by is not None and entries:
            entries = order(scope, entries, stats)
        if getattr(scope, "_batching", False):
            entries, stats.batched = merge_batches(entries)
    except BaseException as exc:
        if getattr(exc, "undispatched_intents", None) is None:
            attach_undispatched(exc, None, scope._intents_for(entries))
        raise
    scope._dispatch(entries)
    return entries
