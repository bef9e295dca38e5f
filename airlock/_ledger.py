"""A scope's ledger, kept lazily: the ``FlushStats`` of its last flush.

Rule: a plain flush (everything dispatched, nothing else to count) stores only
``scope._plain_count`` (None: ``scope._stats`` is current) and ``scope._plain_ns``; a scope
used once that hands its plain records to a capturing ancestor stores the count with
``scope._plain_captured`` (all of them ``captured``). ``current_stats`` expands them into
``FlushStats`` when read. A flush or a discard that may write any field starts from
``fresh_stats``.

Only the thread that runs the scope's flush (a tick's frames) writes the ledger
(``current_stats`` expands the count in place there). ``scope.stats``, which any thread may
read while frames run (a HUD, a monitor), writes nothing: ``read_stats`` expands a pending
count into a new ``FlushStats``, so a reader can never reset or replace the stats a flush is
filling in (nor the count a frame takes its entries by).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._stats import FlushStats

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = ["current_stats", "expand", "fresh_stats", "read_stats"]


def current_stats(scope: Scope) -> FlushStats:
    """The stats of the last flush, a pending count expanded in place: for the thread that
    runs the scope's flushes (see the rule)."""
    stats = scope._stats
    if stats is None:
        stats = scope._stats = FlushStats()
    count = scope._plain_count
    if count is not None:
        scope._plain_count = None
        stats.reset()
        expand(stats, scope, count)
        scope._plain_captured = False
    return stats


def read_stats(scope: Scope) -> FlushStats:
    """``scope.stats``: the stats of the last flush, from any thread, writing nothing (a
    pending plain count expanded into a new object; see the rule)."""
    stats = scope._stats
    count = scope._plain_count
    if count is None:
        return FlushStats() if stats is None else stats
    return expand(FlushStats(), scope, count)


def expand(stats: FlushStats, scope: Scope, count: int) -> FlushStats:
    """Fill ``stats`` (zeroed) from a plain flush's stored ``count`` (see the rule)."""
    if scope._plain_captured:
        stats.enqueued = stats.captured = count
    elif count:
        stats.enqueued = stats.dispatched = count
        stats.flush_ns = scope._plain_ns
    stats.pending = scope._backlog()
    return stats


def fresh_stats(scope: Scope) -> FlushStats:
    """Zeroed stats for a flush of ``scope`` that may write any field."""
    stats = scope._stats
    if stats is None:
        stats = scope._stats = FlushStats()
    else:
        stats.reset()
    scope._plain_count = None
    scope._plain_captured = False
    return stats
