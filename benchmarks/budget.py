"""``python -m benchmarks.budget``: a budgeted frame with a backlog against the same frame without.

Target (issue 13, "Budgets must bound the frame"): a frame of a tick with ``max_per_frame=100``
or ``max_flush_ms=1`` costs O(budget + its own new work), so with 1,000,000 intents carried
from earlier frames it takes at most 2x the time of the same frame with nothing carried. Both
frames enqueue the same new work and dispatch up to the same budget:

- ``max_per_frame=100``: 100 new no-op effects; the frame dispatches 100 (carried ones first).
- ``max_flush_ms=1``: 100 new effects of about 20 us each; dispatching stops after 1 ms.

One run, interleaved rounds (backlog frame, then frame without), one ratio per round; the
verdict goes by the median. Between rounds the frame without a backlog gets a fresh tick, so
it never carries anything itself.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter_ns

import airlock

from .effects import noop
from .timing import quartiles

__all__ = ["LIMIT", "BudgetRatio", "main", "measure"]

#: a budgeted frame with the backlog may take at most this many times the frame without
LIMIT = 2.0
BACKLOG = 1_000_000
NEW_PER_FRAME = 100
BUSY_NS = 20_000


def busy() -> None:
    """An effect that takes about ``BUSY_NS`` of wall time (so that 1 ms fits ~50 of them)."""
    end = perf_counter_ns() + BUSY_NS
    while perf_counter_ns() < end:
        pass


@dataclass(frozen=True)
class Case:
    name: str
    budget: dict[str, float]
    effect: Callable[[], None]


CASES = (
    Case("max_per_frame=100", {"max_per_frame": 100}, noop),
    Case("max_flush_ms=1", {"max_flush_ms": 1.0}, busy),
)


@dataclass(frozen=True)
class BudgetRatio:
    """One case's result: median frame times (ns) with and without the backlog."""

    name: str
    backlog: int
    with_backlog_ns: float
    without_backlog_ns: float
    ratios: tuple[float, ...]  # per round: with / without

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def passed(self) -> bool:
        return self.ratio <= LIMIT

    @property
    def spread(self) -> tuple[float, float]:
        """The middle half of the per-round ratios."""
        return quartiles(list(self.ratios))

    def line(self) -> str:
        low, high = self.spread
        verdict = "PASS" if self.passed else "MISS"
        return (
            f"{self.name:18} backlog {self.backlog:>9,}  with {self.with_backlog_ns / 1000:9.1f} us"
            f"  without {self.without_backlog_ns / 1000:9.1f} us  ratio {self.ratio:5.2f}x"
            f" (middle half {low:.2f}-{high:.2f}x)  {verdict} (<= {LIMIT:g}x)"
        )


def _frame(tick: airlock.TickScope, effect: Callable[[], None]) -> int:
    """Time one frame: enqueue the new work, then the flush. Returns nanoseconds."""
    enqueue = airlock.enqueue
    started = perf_counter_ns()
    with tick:
        for _ in range(NEW_PER_FRAME):
            enqueue(effect)
    return perf_counter_ns() - started


def _with_backlog(case: Case, backlog: int) -> airlock.TickScope:
    """A tick with ``backlog`` intents carried, under ``case``'s budget from the next frame."""
    tick = airlock.tick_scope(max_per_frame=1)
    enqueue, effect = airlock.enqueue, case.effect
    with tick:
        for _ in range(backlog + 1):
            enqueue(effect)
    tick.max_per_frame = None
    for name, value in case.budget.items():
        setattr(tick, name, value)
    return tick


def measure(backlog: int = BACKLOG, rounds: int = 21) -> list[BudgetRatio]:
    """Run every case: ``rounds`` interleaved pairs of frames, after two warm-up pairs."""
    results = []
    for case in CASES:
        loaded = _with_backlog(case, backlog)
        gc.collect()
        gc.freeze()  # the backlog is not scanned by the collector's passes
        try:
            with_ns: list[int] = []
            without_ns: list[int] = []
            for round_ in range(rounds + 2):
                loaded_ns = _frame(loaded, case.effect)
                fresh = airlock.tick_scope(**case.budget)  # type: ignore[arg-type]
                fresh_ns = _frame(fresh, case.effect)
                fresh.close()  # (what its budget carried runs: nothing is left unclosed)
                if round_ >= 2:
                    with_ns.append(loaded_ns)
                    without_ns.append(fresh_ns)
            assert loaded.pending >= backlog, "the backlog drained: the frames were not budgeted"
        finally:
            gc.unfreeze()
            loaded.close()  # the backlog runs, untimed (a tick is never left unclosed)
            del loaded
            gc.collect()
        results.append(BudgetRatio(
            case.name, backlog, statistics.median(with_ns), statistics.median(without_ns),
            tuple(w / wo for w, wo in zip(with_ns, without_ns, strict=True)),
        ))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.budget", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="a seconds-long run: backlog 20,000, 5 rounds (a smoke test only)")
    p.add_argument("--backlog", type=int, help=f"intents carried (default {BACKLOG:,})")
    p.add_argument("--rounds", type=int, help="interleaved rounds per case (default 21)")
    p.add_argument("--strict", action="store_true", help="exit 1 if a case misses the target")
    args = p.parse_args(sys.argv[1:] if argv is None else list(argv))
    backlog = args.backlog or (20_000 if args.quick else BACKLOG)
    rounds = args.rounds or (5 if args.quick else 21)
    print(f"budgeted frame with a {backlog:,}-intent backlog / the same frame without "
          f"({rounds} rounds, median; target <= {LIMIT:g}x)", flush=True)
    results = measure(backlog, rounds)
    for result in results:
        print(result.line(), flush=True)
    return 1 if args.strict and not all(r.passed for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
