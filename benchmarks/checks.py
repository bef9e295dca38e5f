"""A target's verdict from one interleaved run: PASS / MISS / n/a, with its spread and reason.

A verdict goes by the median ratio over the rounds; its spread is the middle half of the
per-round ratios, and a target whose limit falls inside that spread is marked "within noise":
another run may well give the other verdict. ``benchmarks/reasons.py`` holds the known reasons
for misses, shown next to the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from .timing import Measurement, quartiles

__all__ = ["Check", "judged", "measured_ratio"]


@dataclass
class Check:
    name: str
    target: str
    value: str  # the measured worst case, with where it happened
    passed: bool | None  # None: could not be evaluated (a contender was unavailable)
    spread: str = ""  # the middle half of the per-round ratios, when there are rounds
    noisy: bool = False  # the limit falls inside the spread: another run may say otherwise
    reason: str = ""  # why it misses (or passes only so), from benchmarks/reasons.py

    @property
    def verdict(self) -> str:
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[self.passed]
        return f"{verdict} (within noise)" if self.noisy else verdict


def judged(
    name: str, target: str, value: float, shown: str, rounds: list[float], limit: float,
    *, at_least: bool = False,
) -> Check:
    """A check of ``value`` (the median ratio) against ``limit``, with its per-round spread."""
    low, high = quartiles(rounds)
    passed = value >= limit if at_least else value <= limit
    spread = f"{low:.2f}-{high:.2f}x" if len(rounds) > 1 else ""
    return Check(name, target, shown, passed, spread, noisy=low <= limit <= high and low < high)


def measured_ratio(ours: Measurement, other: Measurement) -> tuple[float, list[float]]:
    """``ours`` over ``other``: the ratio of medians and the ratio in each round (the two
    samples of a round ran moments apart, so their ratio is what noise moves least)."""
    rounds = [a / b for a, b in zip(ours.samples, other.samples, strict=True)]
    return ours.median / other.median, rounds
