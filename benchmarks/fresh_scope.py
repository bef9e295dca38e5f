"""A fresh ``airlock.scope()`` per unit of work (the web-request case) against airlock-py.

Issue 15's target: ``with airlock.scope(): enqueue xK`` is at least 6x faster than the same
with airlock-py at EVERY K from 0 (K=0 is ``with scope(): pass``). The frames are the
``airlock scope`` and ``airlock-py`` contenders' (``benchmarks/contenders/``): the report
already measures them in its ``empty`` and ``intents`` cells, so its section reads those
(the targets table's "airlock scope at least 6x faster than airlock-py, every K" is the same
target over every K it ran); ``python -m benchmarks.features`` measures them itself, in one
interleaved run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checks import Check, judged, measured_ratio
from .compare import Results
from .contenders import PEER, SCOPE, Contender, Frame
from .contenders.ours import AirlockScope
from .contenders.peer import AirlockPy
from .effects import noop
from .markdown import ns, table
from .reasons import because, with_reasons
from .sections import RunOptions, Section, SectionResult
from .timing import CLOCKS, Measurement, interleave

__all__ = ["KS", "SECTION", "SPEEDUP", "ScopeRun", "from_results", "markdown", "measure"]

KS = (0, 1, 10, 100)
SPEEDUP = 6.0  # at least this many times faster than airlock-py


@dataclass
class ScopeRun:
    """Per K: the fresh scope's frames and airlock-py's (None when it is unavailable)."""

    ours: dict[int, Measurement]
    peer: dict[int, Measurement] = field(default_factory=dict)
    unavailable: str = ""  # why airlock-py was not measured

    def check(self, k: int) -> Check:
        name = f"fresh airlock.scope() at least {SPEEDUP:g}x faster than airlock-py, K={k}"
        target = f">= {SPEEDUP:.2f}x"
        if k not in self.peer:
            return Check(name, target, f"not measured ({self.unavailable or 'no peer'})", None)
        value, rounds = measured_ratio(self.peer[k], self.ours[k])
        check = judged(name, target, value, f"{value:.2f}x", rounds, SPEEDUP, at_least=True)
        return with_reasons([check])[0]

    def checks(self) -> list[Check]:
        return [self.check(k) for k in sorted(self.ours)]


def _frame(contender: Contender, k: int) -> Frame:
    """``with scope(): pass`` at K=0, else K enqueues in a fresh scope."""
    return contender.build("empty", 0, noop) if k == 0 else contender.build("intents", k, noop)


def measure(options: RunOptions, ks: tuple[int, ...] = KS) -> ScopeRun:
    """Both contenders at every K, in one interleaved run (airlock-py installs on first use)."""
    from ._peer import peer_or_none

    module, reason = peer_or_none()
    ours = AirlockScope()
    frames = {(SCOPE, k): _frame(ours, k) for k in ks}
    if module is not None:
        peer = AirlockPy(module)
        frames.update({(PEER, k): _frame(peer, k) for k in ks})
    measured = interleave(frames, options.rounds, options.sample_ms * 1e6, CLOCKS[options.clock])
    return ScopeRun(
        {k: measured[SCOPE, k] for k in ks},
        {k: measured[PEER, k] for k in ks if (PEER, k) in measured},
        reason,
    )


def from_results(results: Results, ks: tuple[int, ...] = KS) -> ScopeRun:
    """The same comparison from the report's ``empty`` (K=0) and ``intents`` cells."""
    run = ScopeRun({})
    for k in ks:
        cell = results.cell("empty", 0) if k == 0 else results.cell("intents", k)
        if cell is None or SCOPE not in cell.by_contender:
            continue
        run.ours[k] = cell.by_contender[SCOPE]
        if PEER in cell.by_contender:
            run.peer[k] = cell.by_contender[PEER]
    if not run.peer:
        run.unavailable = "airlock-py was not measured"
    return run


def markdown(run: ScopeRun) -> str:
    """Per K: ns per frame of both, the speedup with its spread, and the verdict."""
    rows = []
    for k in sorted(run.ours):
        check = run.check(k)
        theirs = ns(run.peer[k].median) if k in run.peer else "-"
        speedup = f"{check.value} ({check.spread})" if check.spread else check.value
        rows.append([str(k), ns(run.ours[k].median), theirs, speedup,
                     f"**{check.verdict}** (>= {SPEEDUP:g}x){because(check)}"])
    if not rows:
        return "(not measured: the run had no `airlock scope` cells at K=0, 1, 10 or 100)"
    return table(["K", "airlock.scope() ns/frame", "airlock-py ns/frame",
                  "speedup (middle half of rounds)", "target"], rows)


def _section(options: RunOptions, results: Results) -> SectionResult:
    """In the report: read from its cells (the targets table already has the check)."""
    run = from_results(results)
    intro = ("`with scope(): enqueue xK`, a new scope per unit of work, from the report's "
             "`empty` (K=0) and `intents` cells.\n\n")
    return SectionResult(intro + markdown(run))


SECTION = Section("fresh-scope", "Fresh scope per unit of work vs airlock-py (issue 15)",
                  _section)
