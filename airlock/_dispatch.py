"""Stage 7 of a flush: dispatch, the one loop that hands a flush's entries to the executor.

Rule: entries go out in order; a plain or full record runs without ever becoming an
``Intent``. The loop has two variants, chosen once per flush (as trio gates its
instruments): under ``sync_executor`` with nobody watching, each entry is called as it is;
otherwise each goes to the executor (an executor with ``run_task`` takes records too) and
the observers hear ``dispatched``. Fail-fast unless ``errors="continue"`` (``fail_or_stop``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from operator import length_hint
from types import CoroutineType
from typing import TYPE_CHECKING, Any

from ._executor import refuse_coroutine, sync_executor
from ._intent import NO_KWARGS, Intent

if TYPE_CHECKING:
    from types import ModuleType

    from ._flush import FlushContext

__all__ = ["call_each", "dispatch", "fail_or_stop", "use_loop"]


def dispatch(entries: list[Any], ctx: FlushContext) -> None:
    """Hand ``entries`` to ``ctx.executor`` in order, counting into ``ctx.stats``."""
    execute = ctx.executor
    sync = execute is sync_executor
    watching = ctx.watching
    direct = sync and not watching  # the common flush: one call per entry, nothing else
    tell, intent_of = ctx.tell, ctx.intent_of
    run_task = None if sync or watching else getattr(execute, "run_task", None)
    remaining = iter(entries)
    taken = len(entries)
    failed = 0
    entry = None
    try:
        while True:  # leaves the inner loop only for a failure
            try:
                if direct:  # (the compiled kernel's ``call_each`` is this variant's twin:
                    for entry in remaining:  # keep the two in sync)
                        # a record or an Intent alike
                        if (result := entry[0](*entry[1], **entry[2])) is not None and \
                                type(result) is CoroutineType:
                            refuse_coroutine(entry[0], result)
                    return
                for entry in remaining:
                    if type(entry) is not Intent:
                        if run_task is not None:  # the executor takes the record as it is
                            kwargs = entry[2]  # (never the kernel's shared empty dict)
                            run_task(entry[0], entry[1], {} if kwargs is NO_KWARGS else kwargs,
                                     partial(intent_of, entry))
                            continue
                        entry = intent_of(entry)
                    if sync:
                        sync_executor(entry)
                    else:
                        execute(entry)
                    if watching:  # (the kernel's ``call_each`` runs this variant too, under
                        tell("dispatched", entry)  # the default executor: keep in sync)
                return
            except BaseException as exc:
                failed += 1
                left = length_hint(remaining)  # what never runs if the loop stops here
                try:
                    stops = fail_or_stop(entry, exc, remaining, ctx) >= 0
                except BaseException:  # the bookkeeping failed too: the rest never ran
                    taken -= left
                    raise
                if stops:
                    taken -= left
                    raise
    finally:
        ctx.stats.dispatched += taken - failed


def fail_or_stop(entry: Any, exc: BaseException, remaining: Iterable[Any],
                 ctx: FlushContext) -> int:
    """A dispatch loop's failure: ``entry`` raised ``exc``; counted and told (``ctx.fail``).
    -1: the loop goes on; else the loop stops and re-raises ``exc``, which now carries the
    ``remaining`` entries as undispatched (their number is returned)."""
    return ctx.fail_or_stop(ctx.intent_of(entry), exc, lambda: list(remaining))


#: the loop the pipeline runs when its plan names no dispatcher (the default executor):
#: ``dispatch``, or the compiled kernel's twin of its direct and watched variants (``use_loop``)
call_each: Callable[[list[Any], FlushContext], None] = dispatch


def use_loop(native: ModuleType | None) -> None:
    """Run the dispatch loop compiled (``native``: ``airlock._speedups``) or, for None, pure.
    ``_kernel`` decides, once, at import."""
    global call_each
    call_each = dispatch if native is None else native.call_each
