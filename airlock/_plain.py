"""The plain loop: a flush that calls each buffered ``(task, args, kwargs)`` in order.

Rules:
- Under the plain configuration (``FlushPlan.plain_loop``) a buffer of plain records flushes
  as a loop: no stage, no Intent; its stats are one stored count (``_plain_count``, with
  ``_plain_ns``) that ``Scope._current_stats`` expands into ``FlushStats`` when read.
- Two loops, keep them in sync: ``run_kept`` (a scope used once) runs the live buffer, so a
  record another thread appends meanwhile runs too; ``run_plain`` (a tick's frame) runs a copy
  of the entries present when it starts and returns their count (later arrivals are the next
  frame's). It ends before an entry that is not a plain record (a thread's enqueue racing the
  buffer's ``rich`` flag) and leaves it, with the rest, to a general flush.
- A task that raises ends the flush: ``plain_failure`` records the ledger (failed,
  dispatched, undispatched) and attaches the intents to the error.
"""

from __future__ import annotations

from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from ._ledger import fresh_stats
from ._record import PLAIN
from ._stats import FlushStats, attach_undispatched

if TYPE_CHECKING:
    from ._intent import Intent
    from ._scope import Scope

__all__ = ["plain_failure", "record_failure", "run_kept", "run_plain"]


def run_plain(scope: Scope, buffer: list[Any]) -> int:
    """Call the buffered ``(task, args, kwargs)`` in order: the default-everything flush of a
    tick's frame. Return how many entries it took: those in the buffer when it began.

    The entries stay in the buffer: the caller removes what was taken.
    """
    taken = buffer.copy()  # a thread reading ``intents`` may convert entries in place
    count = len(taken)
    entries = iter(taken)
    started = perf_counter_ns() if scope._timed else 0
    try:
        for task, args, kwargs in entries:
            task(*args, **kwargs)
    except BaseException as exc:
        left = list(entries)
        stopped_at = count - len(left) - 1
        stopped = taken[stopped_at]
        if len(stopped) == PLAIN:  # the task itself raised
            record_failure(scope, exc, count, stopped_at, started)
            raise
        scope._buffer.force_general(False)  # unpacking a richer entry failed: it never ran
        count = stopped_at
    if started:
        scope._plain_ns = perf_counter_ns() - started
    scope._plain_count = count
    return count


def run_kept(scope: Scope, buffer: list[Any]) -> int:
    """``run_plain`` for a scope used once: the buffer stays, for ``intents``, and the loop
    runs the live buffer (a scope has no next frame to take what arrives meanwhile)."""
    entries = iter(buffer)
    started = perf_counter_ns()
    try:
        for task, args, kwargs in entries:
            task(*args, **kwargs)
    except BaseException as exc:
        total = len(buffer)
        record_failure(scope, exc, total, total - sum(1 for _ in entries) - 1, started)
        raise
    scope._plain_ns = perf_counter_ns() - started
    count = scope._plain_count = len(buffer)
    return count


def record_failure(
    scope: Scope, exc: BaseException, count: int, failed_at: int, started: int
) -> None:
    """A plain flush of the first ``count`` entries stopped at the one at ``failed_at``."""
    flush_ns = perf_counter_ns() - started if started else 0
    plain_failure(fresh_stats(scope), exc, scope._materialize()[:count], failed_at, flush_ns)


def plain_failure(
    stats: FlushStats, exc: BaseException, intents: list[Intent], failed_at: int, flush_ns: int
) -> None:
    """Record a plain flush of ``intents`` that stopped at ``intents[failed_at]``, whose task
    raised ``exc``: into ``stats`` (zeroed), and on ``exc`` (``failed_intent``,
    ``undispatched_intents``). The intents before it were dispatched."""
    stats.enqueued = len(intents)
    stats.dispatched = failed_at
    stats.failed = 1
    rest = intents[failed_at + 1 :]
    stats.undispatched = len(rest)
    stats.flush_ns = flush_ns
    attach_undispatched(exc, intents[failed_at], rest)
