"""The performance targets from the issues, checked against one run's ratios.

Targets are reported as PASS/MISS by ``python -m benchmarks.report``, never asserted in tests
nor printed by a test run: timing on a shared machine is noisy, so only ratios measured in one
interleaved run are compared (how a verdict is reached: ``benchmarks/checks.py``). The sections
measured by their own modules (``benchmarks/sections.py``) bring their own checks.
"""

from __future__ import annotations

from collections.abc import Iterable

from .budget import LIMIT as BUDGET_LIMIT
from .budget import BudgetRatio
from .checks import Check
from .checks import judged as _judged
from .compare import Cell, Results
from .contenders import ASYNCIO, CONTEXTVAR, HANDWRITTEN, PEER, PYGAME, RAW, SCOPE, TICK
from .memory import Soak

__all__ = ["NOISE", "Check", "check_all"]

NOISE = 1.10  # "within noise": at most 10% above the featureless floor


def _worst(
    cells: Iterable[Cell], ours: str, other: str, *, speedup: bool = False
) -> tuple[float, Cell] | None:
    """The worst (largest ours/other, or smallest other/ours) ratio and its cell."""
    found: list[tuple[float, int, Cell]] = []
    for cell in cells:
        ratio = cell.ratio(ours, other)
        if ratio is not None:
            found.append((1 / ratio if speedup else ratio, cell.param, cell))
    if not found:
        return None
    value, _, cell = min(found, key=lambda f: f[:2]) if speedup else max(found, key=lambda f: f[:2])
    return value, cell


def _ratio_check(
    name: str, target: str, cells: list[Cell], ours: str, other: str, limit: float,
    *, speedup: bool = False, label: str = "K",
) -> Check:
    worst = _worst(cells, ours, other, speedup=speedup)
    if worst is None:
        return Check(name, target, f"not measured ({ours} vs {other})", None)
    value, cell = worst
    rounds = cell.round_ratios(ours, other)
    if speedup:
        rounds = [1 / r for r in rounds]
    shown = f"{value:.2f}x (worst at {label}={cell.param})"
    return _judged(name, target, value, shown, rounds, limit, at_least=speedup)


def _intents(results: Results, low: int = 1) -> list[Cell]:
    return [c for c in results.cells if c.workload.name == "intents" and c.param >= low]


def _flat(results: Results) -> Check:
    cells = {c.param: c for c in _intents(results)}
    top = max(cells, default=0)
    name = f"per-intent cost flat in K (K={top} vs K=100)"
    if 100 not in cells or top <= 100:
        return Check(name, "<= 1.30x", "needs K=100 and a larger K", None)
    value = cells[top].per_intent(TICK) / cells[100].per_intent(TICK)
    shown = f"{value:.2f}x"
    if RAW in cells[top].by_contender and RAW in cells[100].by_contender:
        floor = cells[top].per_intent(RAW) / cells[100].per_intent(RAW)
        shown += f" (raw's own: {floor:.2f}x)"  # cache effects of the machine, not airlock's
    big, small = cells[top].by_contender[TICK], cells[100].by_contender[TICK]
    rounds = [(a / top) / (b / 100) for a, b in zip(big.samples, small.samples, strict=True)]
    return _judged(name, "<= 1.30x", value, shown, rounds, 1.3)


def _soak_check(name: str, soak: Soak | None, core: str = "") -> Check:
    if soak is None:
        return Check(name, "0 blocks", "not run", None)
    if core == "compiled" and soak.compiled is False:
        return Check(name, "0 blocks", "not run: the compiled kernel is not built here", None)
    return Check(
        name, "0 blocks",
        f"{soak.growth:+d} blocks after {soak.frames:,} frames (peak {soak.peak:+d})",
        soak.growth <= 0,
    )


def _budget_check(result: BudgetRatio) -> Check:
    name = (f"budgeted frame ({result.name}) with a {result.backlog:,}-intent backlog within "
            f"{BUDGET_LIMIT:g}x of the same frame without")
    return _judged(name, f"<= {BUDGET_LIMIT:.2f}x", result.ratio, f"{result.ratio:.2f}x",
                   list(result.ratios), BUDGET_LIMIT)


def check_all(
    results: Results, soaks: dict[str, dict[str, Soak]], budgets: Iterable[BudgetRatio] = ()
) -> list[Check]:
    """Every target of the core workloads, in the order the issues state them.

    The checks of parts measured by their own modules (tick features, pygame, Textual...)
    come with their sections: ``report.SECTIONS`` (``benchmarks/sections.py``).
    """
    intents = _intents(results)
    empty = [c for c in results.cells if c.workload.name == "empty"]
    checks = [
        _ratio_check("airlock tick within 1.5x of raw per intent, K=10..", "<= 1.50x",
                     _intents(results, 10), TICK, RAW, 1.5),
        _ratio_check("airlock tick within 1.25x of raw per intent, K=100.. (issue 15)",
                     "<= 1.25x", _intents(results, 100), TICK, RAW, 1.25),
    ]
    for ours in (TICK, SCOPE):
        checks.append(_ratio_check(f"{ours} at least 6x faster than airlock-py, every K",
                                   ">= 6.00x", intents + empty, ours, PEER, 6.0, speedup=True))
    for other in (PYGAME, ASYNCIO):
        checks.append(_ratio_check(f"airlock tick faster than {other}, every K", "< 1.00x",
                                   intents, TICK, other, 0.999))
    checks += [
        _flat(results),
        _ratio_check("empty tick frame within 2.5x of ContextVar set+reset (issue 15)",
                     "<= 2.50x", empty, TICK, CONTEXTVAR, 2.5),
        _ratio_check("unused stats/hooks/coalescing/batching/ordering cost nothing: tick vs "
                     "hand-written scope, K=100..", f"<= {NOISE:.2f}x",
                     _intents(results, 100), TICK, HANDWRITTEN, NOISE),
        # issue 23 (the compiled kernel): cheaper than the hand-written buffer it replaces
        _ratio_check("airlock tick cheaper than a hand-written buffer per intent, K=10.. "
                     "(issue 23)", "<= 0.90x", _intents(results, 10), TICK, HANDWRITTEN, 0.9),
        _ratio_check("airlock tick at least 10x faster than airlock-py, K=10.. (issue 23)",
                     ">= 10.00x", _intents(results, 10), TICK, PEER, 10.0, speedup=True),
        _ratio_check("empty tick frame within 1.5x of ContextVar set+reset (issue 23)",
                     "<= 1.50x", empty, TICK, CONTEXTVAR, 1.5),
    ]
    for name, by_core in soaks.items():  # each soak on each core: {name: {core: soak}}
        checks += [_soak_check(f"no block growth: {name} ({core})", soak, core)
                   for core, soak in by_core.items()]
    checks += [_budget_check(result) for result in budgets]
    return checks
