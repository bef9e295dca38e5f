"""Stage 7 of a flush: dispatch. Each entry goes to the executor in order; the default
``sync_executor`` is called inline (one Python frame less per intent), and a plain or full
record runs without ever becoming an ``Intent`` (an executor with ``run_task`` takes records
too). Fail-fast unless ``errors="continue"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from ._executor import sync_executor
from ._intent import Intent
from ._stats import attach_undispatched

if TYPE_CHECKING:
    from types import ModuleType

    from ._flush import FlushContext

__all__ = ["call_each", "dispatch", "fail_or_stop", "use_loop"]


def dispatch(entries: list[Any], ctx: FlushContext) -> None:
    """Hand ``entries`` to ``ctx.executor`` in order, counting into ``ctx.stats``."""
    execute = ctx.executor
    direct = execute is sync_executor
    watching = ctx.watching
    stats = ctx.stats
    if direct and not watching:
        call_each(entries, ctx)
        return
    intent_of = ctx.intent_of
    run_task = None if direct or watching else getattr(execute, "run_task", None)
    dispatched = 0
    remaining = iter(entries)
    try:
        for entry in remaining:
            try:
                if type(entry) is not Intent:
                    if run_task is not None:  # the executor takes the record as it is
                        run_task(entry[0], entry[1], entry[2], partial(intent_of, entry))
                        dispatched += 1
                        continue
                    entry = intent_of(entry)
                if direct:
                    entry[0](*entry[1], **entry[2])
                else:
                    execute(entry)
            except BaseException as exc:
                intent = intent_of(entry)
                if not ctx.fail(intent, exc):
                    attach_undispatched(exc, intent, ctx.intents_for(list(remaining)))
                    raise
            else:
                dispatched += 1
                if watching:
                    ctx.tell("dispatched", entry)
    finally:
        stats.dispatched += dispatched


def _call_each(entries: list[Any], ctx: FlushContext) -> None:
    """Dispatch under the default executor with nobody watching: call each entry, records
    as they are, in one loop that only leaves for a failure. (The compiled kernel's
    ``call_each`` is its twin: keep the two in sync.)"""
    remaining = iter(entries)
    taken = len(entries)
    failed = 0
    entry = None
    try:
        while True:
            try:
                for entry in remaining:  # a record or an Intent: the same first three fields
                    entry[0](*entry[1], **entry[2])
                return
            except BaseException as exc:
                failed += 1
                try:
                    left = fail_or_stop(entry, exc, remaining, ctx)
                except BaseException:  # the bookkeeping failed too: the rest never ran
                    taken -= sum(1 for _ in remaining)
                    raise
                if left >= 0:
                    taken -= left
                    raise
    finally:
        ctx.stats.dispatched += taken - failed


def fail_or_stop(entry: Any, exc: BaseException, remaining: Iterable[Any],
                 ctx: FlushContext) -> int:
    """A dispatch loop's failure: ``entry`` raised ``exc``; counted and told (``ctx.fail``).
    -1: the loop goes on; else the loop stops and re-raises ``exc``, which now carries the
    ``remaining`` entries as undispatched (their number is returned)."""
    intent = ctx.intent_of(entry)
    if ctx.fail(intent, exc):
        return -1
    rest = list(remaining)
    attach_undispatched(exc, intent, ctx.intents_for(rest))
    return len(rest)


#: the loop ``dispatch`` runs under the default executor: ``_call_each``, or the compiled
#: kernel's twin (``use_loop``)
call_each: Callable[[list[Any], FlushContext], None] = _call_each


def use_loop(native: ModuleType | None) -> None:
    """Run the dispatch loop compiled (``native``: ``airlock._speedups``) or, for None, pure.
    ``_kernel`` decides, once, at import."""
    global call_each
    call_each = _call_each if native is None else native.call_each
