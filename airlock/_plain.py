"""The plain loop: a flush that calls each buffered ``(task, args, kwargs)`` in order.

Rules:
- Under the plain configuration (``FlushPlan.plain_loop``) a buffer of plain records flushes
  as a loop: no stage, no Intent; its stats are one stored count (``_plain_count``, with
  ``_plain_ns``) that ``Scope._current_stats`` expands into ``FlushStats`` when read.
- ``run_plain`` runs the entries present when it starts and returns their count. A tick's
  later arrivals are its next frame's (the loop runs a copy); a scope used once has no next
  flush, so its loop runs the live buffer, and what another thread appends meanwhile runs
  too (``arrivals``: a safeguard: airlock's own enqueues and captures read the scope's state
  last and so no longer land once it closed, see ``_buffer``; code that appends to a buffer
  itself still could).
  Another thread reading ``intents`` meanwhile names the records in place: such an entry
  (``_record.runs_plain``) runs as its record would.
- The loop ends before any other entry (such an append racing the buffer's ``rich`` flag)
  and leaves it, with the rest, to the tick's next frame; a scope used once reports it as
  failed, with a ``ScopeStateError`` that says so (``racing_entry_error``).
- A task that raises ends the flush: ``plain_failure`` records the ledger (failed,
  dispatched, undispatched) and attaches the intents to the error. A task that returns a
  coroutine fails so too (``_executor.refuse_coroutine``: nothing would await it).
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from operator import length_hint
from time import perf_counter_ns
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from ._errors import ScopeStateError
from ._executor import refuse_coroutine
from ._ledger import fresh_stats
from ._ordering import describe
from ._record import PLAIN, runs_plain
from ._stats import FlushStats, attach_undispatched

if TYPE_CHECKING:
    from ._intent import Intent
    from ._scope import Scope

__all__ = ["plain_failure", "racing_entry_error", "record_failure", "run_plain"]


def run_plain(
    scope: Scope, buffer: list[Any], arrivals: bool = False, start: int = 0, started: int = 0,
    count: int | None = None,
) -> int:
    """Call the buffered ``(task, args, kwargs)`` in order: the default-everything flush.
    Return how many entries it took: those in the buffer when it began (``count``: the first
    ``count``, the frame's as its caller counted them; ``arrivals``: and those appended
    meanwhile), up to the first that is not plain.

    The entries stay in the buffer (for ``intents``): a tick removes what was taken. (The
    compiled kernel runs a scope's plain flush itself until an entry that is not a plain
    record, then calls this from there: ``start``, and the clock it read, ``started``.)
    """
    # (the live buffer: arrivals run too)
    taken = buffer if arrivals else buffer.copy() if count is None else buffer[:count]
    entries = iter(taken)
    if start:  # the kernel ran the first ``start`` (``release_plain``): on from there
        deque(islice(entries, start), maxlen=0)
    else:
        started = perf_counter_ns() if scope._timed else 0
    coroutine = CoroutineType
    while True:  # leaves the inner loop only for a failure or an entry that is not plain
        try:
            for task, args, kwargs in entries:
                if (result := task(*args, **kwargs)) is not None and type(result) is coroutine:
                    refuse_coroutine(task, result)
            break
        except BaseException as exc:
            count = len(taken)
            at = count - length_hint(entries) - 1
            stopped = taken[at]
            if len(stopped) == PLAIN:  # the task raised
                record_failure(scope, exc, count, at, started)
                raise
            if arrivals and not runs_plain(stopped):  # a scope used once met a racing richer
                error = racing_entry_error(scope, stopped)  # entry: it has no next flush to
                record_failure(scope, error, count, at, started)  # leave it to
                raise error from None
            if not runs_plain(stopped):  # a tick's racing entry never ran: the rest is the
                scope._buffer.force_general(False)  # next frame's
                taken = taken[:at]
                break
        try:  # an entry that ``intents`` named
            if type(result := stopped[0](*stopped[1], **stopped[2])) is coroutine:
                refuse_coroutine(stopped[0], result)
        except BaseException as exc:
            record_failure(scope, exc, len(taken), at, started)
            raise
    if started:
        scope._plain_ns = perf_counter_ns() - started
    count = scope._plain_count = len(taken)
    return count


def racing_entry_error(scope: Scope, entry: Any) -> ScopeStateError:
    """Why a scope used once failed ``entry``, which another thread appended (with options)
    while the scope's plain flush ran."""
    return ScopeStateError(
        f"{describe(entry)} reached {scope!r} while it ran its plain flush: another thread "
        "appended it (with options: a _key, a batch, a local policy) to the scope's buffer as "
        "the scope was exiting, and a scope used once has no later flush to run it in, so it "
        "did not run. Let that thread finish before the scope exits (join it inside the with "
        "block), or make the scope a tick, whose next frame takes what arrives late"
    )


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
