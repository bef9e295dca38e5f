"""A tick's frame budget: at most ``max_per_frame`` intents, or ``max_flush_ms`` of dispatch.

Rule: the options are checked when set; a frame takes its budget when it opens (``NO_BUDGET``:
none), and ``dispatch_within`` dispatches carried intents first, then the frame's, in order,
until the budget is spent; what is left stays in the carry for the next frame. What leaves
the carry is dispatched or, if an interrupt comes first, named undispatched on it.
"""

from __future__ import annotations

import math
from collections import deque
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any

from ._dispatch import dispatch
from ._inbox import check_count_limit
from ._stats import attach_undispatched

if TYPE_CHECKING:
    from ._flush import FlushContext

__all__ = [
    "NO_BUDGET", "check_max_flush_ms", "check_max_per_frame", "dispatch_budgeted",
    "dispatch_within",
]

#: (max intents, max nanoseconds) of a frame with no budget
NO_BUDGET: tuple[int | None, int | None] = (None, None)


def check_max_per_frame(value: Any) -> int | None:
    return check_count_limit(
        value, "max_per_frame", "intents dispatched per frame", "0 would never dispatch anything"
    )


def check_max_flush_ms(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) is bool or not isinstance(value, (int, float)):
        raise TypeError(
            f"max_flush_ms must be a positive number of milliseconds or None, got {value!r}"
        )
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"max_flush_ms must be a positive, finite number of milliseconds or None "
            f"(None: no time limit), got {value!r}"
        )
    return float(value)




def dispatch_budgeted(entries: list[Any], ctx: FlushContext) -> None:
    """A tick's dispatcher under a budget, or with carried intents: ``dispatch_within`` the
    context's carry and budget (the plan picks it, see ``_plan``)."""
    assert ctx.carry is not None
    dispatch_within(ctx.carry, entries, ctx.budget, ctx)


def dispatch_within(
    carry: deque[Any], entries: list[Any], budget: tuple[int | None, int | None],
    ctx: FlushContext,
) -> None:
    """Dispatch ``carry`` then ``entries`` under ``budget`` (max intents, max ns); what the
    budget leaves stays in ``carry``, in order."""
    limit, budget_ns = budget
    if not carry and limit is None and budget_ns is None:
        dispatch(entries, ctx)
        return
    carry.extend(entries)
    take = carry.popleft
    chunk: list[Any] = []  # out of the carry, not yet handed to ``dispatch``'s accounting
    try:
        if budget_ns is None:
            count = len(carry) if limit is None else min(limit, len(carry))
            chunk = [take() for _ in range(count)]
            dispatch(chunk, ctx)
            return
        deadline = perf_counter_ns() + budget_ns
        dispatched = 0
        while carry and (limit is None or dispatched < limit):
            if dispatched and perf_counter_ns() >= deadline:
                return
            dispatched += 1
            chunk = [take()]
            dispatch(chunk, ctx)
            chunk = []
    except BaseException as exc:  # an interrupt before ``dispatch`` counted them: name them
        if getattr(exc, "undispatched_intents", None) is None:
            attach_undispatched(exc, None, ctx.intents_for(chunk))
        raise
