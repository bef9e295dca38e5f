"""A scope's ledger, kept lazily: the ``FlushStats`` of its last flush.

Rule: a plain flush (everything dispatched, nothing else to count) stores only
``scope._plain_count`` (None: ``scope._stats`` is current) and ``scope._plain_ns``; a scope
used once that hands its plain records to a capturing ancestor stores the count with
``scope._plain_captured`` (all of them ``captured``). ``current_stats`` expands them into
``FlushStats`` when read (``Scope.stats``). A flush or a discard that may write any field
starts from ``fresh_stats``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._stats import FlushStats

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = ["current_stats", "fresh_stats"]


def current_stats(scope: Scope) -> FlushStats:
    """``scope.stats`` without turning timing on."""
    stats = scope._stats
    if stats is None:
        stats = scope._stats = FlushStats()
    count = scope._plain_count
    if count is not None:
        scope._plain_count = None
        stats.reset()
        if scope._plain_captured:
            scope._plain_captured = False
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
