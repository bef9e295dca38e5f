"""Stage 7 of a flush: dispatch. Each entry goes to the executor in order; the default
``sync_executor`` is called inline (one Python frame less per intent), and a plain or full
record runs without ever becoming an ``Intent`` (an executor with ``run_task`` takes records
too). Fail-fast unless ``errors="continue"``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ._executor import sync_executor
from ._intent import Intent
from ._stats import attach_undispatched

if TYPE_CHECKING:
    from ._flush import FlushContext

__all__ = ["dispatch"]


def dispatch(entries: list[Any], ctx: FlushContext) -> None:
    """Hand ``entries`` to ``ctx.executor`` in order, counting into ``ctx.stats``."""
    execute = ctx.executor
    direct = execute is sync_executor
    watching = ctx.watching
    stats = ctx.stats
    if direct and not watching:
        _call_each(entries, ctx)
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
                    entry.task(*entry.args, **entry.kwargs)
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
    as they are, in one loop that only leaves for a failure."""
    remaining = iter(entries)
    taken = len(entries)
    failed = 0
    entry = None
    try:
        while True:
            try:
                for entry in remaining:
                    if type(entry) is tuple:
                        entry[0](*entry[1], **entry[2])
                    else:
                        entry.task(*entry.args, **entry.kwargs)
                return
            except BaseException as exc:
                failed += 1
                intent = ctx.intent_of(entry)
                if not ctx.fail(intent, exc):
                    rest = list(remaining)
                    taken -= len(rest)
                    attach_undispatched(exc, intent, ctx.intents_for(rest))
                    raise
    finally:
        ctx.stats.dispatched += taken - failed
