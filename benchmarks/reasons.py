"""Known reasons for targets that miss (or pass only within noise), in one place.

The report shows a check's reason in the targets table's "why" column. Key a reason by the
check's exact name as the targets table prints it (``python -m benchmarks.report`` warns on
stderr about a reason whose name matched no check, e.g. after a check was renamed). Keep it
short: one sentence on what costs the time, and where the fuller analysis lives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .checks import Check

__all__ = ["REASONS", "because", "unmatched", "with_reasons"]

#: A K=10 feature frame also pays a rich frame's fixed cost over only 10 intents.
_FRAME = (
    "; at K=10 the flush pipeline's fixed cost per frame (stats, stage checks, dispatch "
    "loop: ~30k instructions) weighs on 10 intents"
)
#: feature (as ``benchmarks.features`` titles it) -> what its intents cost beyond a plain one
#: (instruction counts: callgrind, per intent at K=100, plain enqueue ~3.2k)
_FEATURES = {
    "`_key` coalescing, distinct keys": (
        "`_key=` is a keyword argument (the call builds a dict) and the record has 9 fields; "
        "the coalesce stage adds a pass over the frame's keys (~6.4k instructions per intent)"
    ),
    "`_key` coalescing, one key": (
        "`_key=` is a keyword argument (the call builds a dict) and the record has 9 fields; "
        "the coalesce stage adds a pass over the frame's keys"
    ),
    "`@airlock.batch` effect": (
        "each payload is a record (the general enqueue path: a Batch is not callable), folded "
        "into one call by a pass over the frame; the hand-written code appends the bare payload"
    ),
    "`order_by=by_phase(...)`, `@airlock.phase` tasks": (
        "the sort calls by_phase's key, a Python function, once per intent"
    ),
    "phase in `_dispatch_options`, `by_phase`": (
        "a dict per enqueue, option parsing on the general enqueue path and a Python sort key "
        "per intent (~13k instructions per intent)"
    ),
    "inside `airlock.policy(AllowAll())`": (
        "each enqueue inside the block takes the general path to record its local policies "
        "(they stay readable on the intent), and the block is a context manager"
    ),
    "one `Observer` attached, overriding nothing": (
        "passes in full runs (1.1x at K=100); the quick run's median is noisy"
    ),
    "one `Observer` overriding `enqueued`/`dispatched`": (
        "the hooks take Intents: one is built per enqueue (~360 ns) and each hook call goes "
        "through the guarded observer loop (~18k instructions per intent)"
    ),
    "`_dispatch_options={...}`": (
        "a dict per enqueue and option parsing on the general enqueue path"
    ),
}

#: check name -> why it misses
REASONS: dict[str, str] = {
    **{
        f"{feature}: per intent within {limit}x of plain enqueue, K={k}": reason + extra
        for feature, reason in _FEATURES.items()
        for limit, k, extra in (("2", 10, _FRAME), ("1.5", 100, ""))
    },
    "airlock scope at least 6x faster than airlock-py, every K": (
        "an empty fresh scope (create, enter, exit, flush) costs ~11.7k instructions, "
        "airlock-py's ~26k: 6x would need under 4.4k, about 100 bytecodes for four calls "
        "and ~20 slot stores"
    ),
    "airlock tick at least 6x faster than airlock-py, every K": (
        "at K=1 a frame's fixed cost dominates; from K=10 on the tick is 7-9x faster"
    ),
}


def with_reasons(checks: list[Check], reasons: Mapping[str, str] | None = None) -> list[Check]:
    """``checks`` with the known reason of each filled in (a reason given already stays)."""
    known = REASONS if reasons is None else reasons
    for check in checks:
        if not check.reason:
            check.reason = known.get(check.name, "")
    return checks


def unmatched(checks: Iterable[Check], reasons: Mapping[str, str] | None = None) -> list[str]:
    """Names in ``reasons`` that no check has (a renamed check leaves its reason behind)."""
    names = {c.name for c in checks}
    return sorted(name for name in (REASONS if reasons is None else reasons) if name not in names)


def because(check: Check) -> str:
    """``": <reason>"`` to follow a verdict in a table cell, or nothing."""
    return f": {check.reason}" if check.reason else ""
