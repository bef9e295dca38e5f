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

#: A K=10 feature frame also pays a pipeline frame's fixed cost over only 10 intents.
_FRAME = (
    "; at K=10 the pipeline frame's fixed cost (in C: the stats, the flush context, the "
    "stage calls) weighs on 10 intents"
)
#: feature (as ``benchmarks.features`` titles it) -> (what its intents cost beyond a plain one,
#: what a K=10 frame adds); instruction counts: callgrind, per K=100 frame with the compiled
#: kernel (``python -m benchmarks.instructions --features``), plain ~170k
_FEATURES = {
    "`_key` coalescing, distinct keys": (
        "each enqueue builds a full 9-field record (the kernel reads `_key` from the keyword "
        "names, no dict) that is freed at frame end, and the coalesce stage (C) hashes every "
        "key into a table of its own: ~218k instructions a frame against plain's ~170k (with "
        "a dict, ~241k); ~10k of the rest is the body's own `_key=keys[i]`", _FRAME,
    ),
    "`_key` coalescing, one key": (
        "each enqueue builds a full 9-field record, all but one freed unrun by the coalesce "
        "stage (C) at frame end", _FRAME,
    ),
    "`@airlock.batch` effect": (
        "each payload is a full record, folded by the batch stage (C) at frame end; the "
        "hand-written code appends the bare payload", _FRAME,
    ),
    "`order_by=by_phase(...)`, `@airlock.phase` tasks": (
        "the order stage is a counting sort in C on each task's phase rank, read once per "
        "task and flush: ~200k instructions a frame against plain's ~170k", _FRAME,
    ),
    "phase in `_dispatch_options`, `by_phase`": (
        "each enqueue parses its options from the keyword names (no dict) into a full "
        "9-field record, and the order stage (C) ranks each options dict once a flush (two "
        "dict lookups): ~217k instructions a frame against plain's ~170k (~241k before "
        "session 22), of which the body's own `_dispatch_options=options[i]` is ~10k",
        _FRAME,
    ),
    "inside `airlock.policy(AllowAll())`": (
        "each enqueue inside the block builds a full record holding the block's policies "
        "(they stay readable on the intent), and the block itself (made, opened and closed "
        "in C: the policy check, a policy view, the ContextVar's set and reset) costs ~5k "
        "instructions, about two empty frames",
        _FRAME,
    ),
    "one `Observer` attached, overriding nothing": (
        "the tick calls nothing of it (its frames stay the compiled ones); what is left is "
        "the observer set's checks at the frame's ends", _FRAME,
    ),
    "one `Observer` overriding `enqueued`/`dispatched`": (
        "the hooks take Intents: the kernel builds one per enqueue (the nine fields, the "
        "args and two dicts of its own) and calls both hooks (Python methods, each looked up "
        "at its call) from the guarded observer loop in C: ~4.3k instructions per intent "
        "against a plain one's ~1.7k, of which the two hooks' own Python frames are ~1k "
        "(the hand-written loop calling two hooks: ~2.45k in all); the frame itself runs "
        "inline in C", _FRAME,
    ),
    "`_dispatch_options={...}`": (
        "each enqueue reads its options from the keyword names (no dict) into a full "
        "9-field record: ~200k instructions a frame against plain's ~170k", _FRAME,
    ),
}

#: check name -> why it misses
REASONS: dict[str, str] = {
    **{
        f"{feature}: per intent vs plain enqueue, K={k}": reason + (frame if k == 10 else "")
        for feature, (reason, frame) in _FEATURES.items()
        for k in (10, 100)
    },
    "airlock scope at least 6x faster than airlock-py, every K": (
        "an empty fresh scope (create, enter, exit, flush) costs ~5.1k instructions with the "
        "kernel in this frame (12.7k pure), airlock-py's ~26k: 6x would need under 4.4k; with "
        "effects the kernel runs the scope's plain flush too (one effect: ~8.5k instructions); "
        "at K=10000 "
        "the rounds spread widely (the collector runs during the big buffer)"
    ),
    "per-intent cost flat in K (K=10000 vs K=100)": (
        "the cyclic garbage collector: a frame's records (a tuple each) live until its end, "
        "so at K=10000 they are promoted to the oldest generation and trigger full "
        "collections (33 in 200 frames); raw's (fn, args) tuples do the same. With the "
        "collector off, the tick's per-intent cost is flat (137 against 128 ns; with it on, "
        "200 against 134; raw 165/145 off, 206/144 on). A record the collector did not "
        "track could hide a reference cycle through its task or arguments (a leak): "
        "avoiding this needs records that are not Python objects"
    ),
    "airlock tick at least 6x faster than airlock-py, every K": (
        "at K=1 a frame's fixed cost dominates; at K=10000 the garbage collector's full "
        "collections of the big buffer's records (see 'per-intent cost flat in K')"
    ),
    "airlock tick at least 10x faster than airlock-py, K=10.. (issue 23)": (
        "over 12x at K=10 to 1000; at K=10000 the garbage collector's full collections of "
        "the big buffer's records (see 'per-intent cost flat in K'; the fastest rounds are "
        "over 10x)"
    ),
    "empty tick frame within 1.5x of ContextVar set+reset (issue 23)": (
        "the with statement's two special-method calls, the claim (one frame at a time) and "
        "the frame count on top of the ContextVar's set and reset: 2,981 instructions against "
        "2,116 (1.41x); in time a little more, and the rounds move around 1.5x"
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
