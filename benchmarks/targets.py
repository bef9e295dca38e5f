"""The performance targets from the issues, checked against one run's ratios.

Targets are reported as PASS/MISS by ``python -m benchmarks.report``, never asserted in tests
nor printed by a test run: timing on a shared machine is noisy, so only ratios measured in one
interleaved run are compared. A verdict goes by the median ratio over the rounds; its spread is
the middle half of the per-round ratios, and a target whose limit falls inside that spread is
marked "within noise": another run may well give the other verdict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .budget import LIMIT as BUDGET_LIMIT
from .budget import BudgetRatio
from .compare import Cell, Results
from .contenders import ASYNCIO, CONTEXTVAR, HANDWRITTEN, PEER, PYGAME, RAW, SCOPE, TICK
from .memory import Soak
from .timing import quartiles

__all__ = ["NOISE", "Check", "check_all"]

NOISE = 1.10  # "within noise": at most 10% above the featureless floor


@dataclass
class Check:
    name: str
    target: str
    value: str  # the measured worst case, with where it happened
    passed: bool | None  # None: could not be evaluated (a contender was unavailable)
    spread: str = ""  # the middle half of the per-round ratios, when there are rounds
    noisy: bool = False  # the limit falls inside the spread: another run may say otherwise

    @property
    def verdict(self) -> str:
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[self.passed]
        return f"{verdict} (within noise)" if self.noisy else verdict


def _judged(
    name: str, target: str, value: float, shown: str, rounds: list[float], limit: float,
    *, at_least: bool = False,
) -> Check:
    """A check of ``value`` (the median ratio) against ``limit``, with its per-round spread."""
    low, high = quartiles(rounds)
    passed = value >= limit if at_least else value <= limit
    spread = f"{low:.2f}-{high:.2f}x" if len(rounds) > 1 else ""
    return Check(name, target, shown, passed, spread, noisy=low <= limit <= high and low < high)


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
    top = max(cells)
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


def _soak_check(name: str, soak: Soak | None) -> Check:
    if soak is None:
        return Check(name, "0 blocks", "not run", None)
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
    results: Results, soaks: dict[str, Soak], budgets: Iterable[BudgetRatio] = ()
) -> list[Check]:
    """Every target, in the order the issues state them."""
    intents = _intents(results)
    empty = [c for c in results.cells if c.workload.name == "empty"]
    checks = [
        _ratio_check("airlock tick within 1.5x of raw per intent, K=10..", "<= 1.50x",
                     _intents(results, 10), TICK, RAW, 1.5),
    ]
    for ours in (TICK, SCOPE):
        checks.append(_ratio_check(f"{ours} at least 6x faster than airlock-py, every K",
                                   ">= 6.00x", intents + empty, ours, PEER, 6.0, speedup=True))
    for other in (PYGAME, ASYNCIO):
        checks.append(_ratio_check(f"airlock tick faster than {other}, every K", "< 1.00x",
                                   intents, TICK, other, 0.999))
    checks += [
        _flat(results),
        _ratio_check("empty tick frame within 3x of ContextVar set+reset", "<= 3.00x",
                     empty, TICK, CONTEXTVAR, 3.0),
        _ratio_check("unused stats/hooks/coalescing/batching/ordering cost nothing: tick vs "
                     "hand-written scope, K=100..", f"<= {NOISE:.2f}x",
                     _intents(results, 100), TICK, HANDWRITTEN, NOISE),
    ]
    for name, soak in soaks.items():
        checks.append(_soak_check(f"no block growth: {name}", soak))
    checks += [_budget_check(result) for result in budgets]
    return checks
