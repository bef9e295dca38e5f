"""Run every workload cell with all contenders that can do it, interleaved, in one process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .contenders import Contender
from .effects import noop
from .timing import CLOCKS, Measurement, interleave
from .workloads import WORKLOADS, Workload

__all__ = ["Cell", "Results", "compare"]


@dataclass
class Cell:
    """One workload at one size: a measurement per contender."""

    workload: Workload
    param: int
    by_contender: dict[str, Measurement] = field(default_factory=dict)

    def per_intent(self, contender: str) -> float:
        return self.by_contender[contender].median / self.workload.units(self.param)

    def ratio(self, contender: str, baseline: str) -> float | None:
        """Median frame time of ``contender`` over ``baseline``'s (None if either is absent)."""
        if contender not in self.by_contender or baseline not in self.by_contender:
            return None
        return self.by_contender[contender].median / self.by_contender[baseline].median

    def round_ratios(self, contender: str, baseline: str) -> list[float]:
        """``contender`` over ``baseline`` in each interleaved round (the two samples of a
        round ran moments apart, so their ratio is what noise moves least)."""
        ours, theirs = self.by_contender[contender], self.by_contender[baseline]
        return [a / b for a, b in zip(ours.samples, theirs.samples, strict=True)]


@dataclass
class Results:
    cells: list[Cell] = field(default_factory=list)

    def cell(self, workload: str, param: int) -> Cell | None:
        for cell in self.cells:
            if cell.workload.name == workload and cell.param == param:
                return cell
        return None


def compare(
    contenders: list[Contender],
    *,
    quick: bool,
    rounds: int,
    sample_ms: float,
    clock: str = "cpu",
    progress: Callable[[str], None] = lambda line: None,
) -> Results:
    """Measure each cell; contenders must already be open.

    All sizes of one workload are interleaved together, so comparisons across K (is the
    per-intent cost flat?) are as robust to drifting machine load as those across contenders.
    """
    results = Results()
    for workload in WORKLOADS:
        params = workload.quick_params if quick else workload.params
        able = [c for c in contenders if c.supports(workload.name)]
        frames = {(p, c.name): c.build(workload.name, p, noop) for p in params for c in able}
        names = ", ".join(c.name for c in able)
        progress(f"{workload.name} {', '.join(map(str, params))}: {names}")
        measured = interleave(frames, rounds, sample_ms * 1e6, CLOCKS[clock])
        for p in params:
            by_name = {c.name: measured[(p, c.name)] for c in able}
            results.cells.append(Cell(workload, p, by_name))
    return results
