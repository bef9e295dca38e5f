"""``python -m benchmarks.report``: the side-by-side comparison, targets, memory and soak.

Runs in ONE process with interleaved rounds, prints Markdown, and writes ``results.md`` and
``per-intent.png`` to ``out/performance/`` (``--out DIR`` elsewhere). ``--update-docs`` writes
them over the committed ``docs/performance/`` instead (full mode only). This is the one place
that gives the performance targets a verdict; the test suite never does. Parts measured by
their own modules (tick features, fresh scopes vs airlock-py, ...) are listed in ``SECTIONS``;
``--sections`` picks some.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import features, fresh_scope, pygame_frames, textual_messages
from .budget import BACKLOG, BudgetRatio
from .budget import measure as measure_budgets
from .chart import per_intent_chart
from .compare import Results, compare
from .contenders import PEER, RAW, TICK, Contender, make_contenders
from .effects import noop
from .markdown import memory_table, side_by_side, soak_table, targets_table
from .memory import FrameMemory, Soak, frame_memory
from .reasons import unmatched, with_reasons
from .sections import RunOptions, Section, SectionResult
from .soak import CORES, soak_in_subprocess
from .targets import Check, check_all
from .timing import CLOCKS

__all__ = ["main"]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance"
OUT = Path("out") / "performance"
CHART = "per-intent.png"
GAPS = Path(__file__).resolve().parent / "gaps.md"  # hand-written analysis, kept with the code

# -- Sections measured by their own modules (see benchmarks/sections.py) --------------------
# Each adds a "## title" part to the report and its checks to the targets table, in this
# order. To add one: expose a Section in your module and append it here (one line).
SECTIONS: list[Section] = [
    features.SECTION,
    fresh_scope.SECTION,
    pygame_frames.SECTION,
    textual_messages.SECTION,
]
# -------------------------------------------------------------------------------------------


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    p.add_argument("--quick", action="store_true",
                   help="a shorter run (K up to 1000, few short rounds, 10,000-frame soak), "
                   "written to the same files")
    p.add_argument("--rounds", type=int, help="interleaved rounds per cell (default 51; quick 5)")
    p.add_argument("--sample-ms", type=float,
                   help="target length of one sample in ms (default 6; quick 2)")
    p.add_argument("--soak", type=int, metavar="N",
                   help="frames per soak (default 1,000,000; quick 10,000; 0 skips)")
    p.add_argument("--memory-frames", type=int, metavar="N",
                   help="frames per memory measurement (default 5,000; quick 500)")
    p.add_argument("--budget-backlog", type=int, metavar="N",
                   help="intents carried in the budgeted-frame comparison (python -m "
                   "benchmarks.budget; default 1,000,000; quick 20,000; 0 skips)")
    p.add_argument("--out", type=Path,
                   help=f"directory for results.md and {CHART} (default: {OUT})")
    p.add_argument("--update-docs", action="store_true",
                   help=f"write them into {DOCS}, the committed results (full mode only)")
    p.add_argument("--contenders", metavar="NAMES",
                   help="comma-separated contenders to run (default: all; raw and airlock tick "
                   "always run)")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                   help="cpu: this thread's CPU time (default; ignores time descheduled by "
                   "other processes); wall: perf_counter")
    p.add_argument("--sections", metavar="NAMES",
                   help="comma-separated sections to run (default: all): "
                   + ", ".join(s.name for s in SECTIONS))
    p.add_argument("--strict", action="store_true", help="exit 1 if any target is missed")
    args = p.parse_args(argv)
    args.sections = _chosen_sections(p, args.sections)
    quick = args.quick
    args.rounds = args.rounds or (5 if quick else 51)
    args.sample_ms = args.sample_ms or (2.0 if quick else 6.0)
    args.soak = (10_000 if quick else 1_000_000) if args.soak is None else args.soak
    args.memory_frames = args.memory_frames or (500 if quick else 5_000)
    if args.budget_backlog is None:
        args.budget_backlog = 20_000 if quick else BACKLOG
    if args.update_docs and (quick or args.out is not None):
        p.error("--update-docs writes a full run into docs/performance: drop --quick and --out")
    args.out = DOCS if args.update_docs else args.out or OUT
    return args


def _chosen(contenders: list[Contender], names: str | None) -> list[Contender]:
    """The contenders named in ``--contenders`` (every one when not given), with raw and the
    tick, which every target compares."""
    if names is None:
        return contenders
    wanted = {name.strip() for name in names.split(",") if name.strip()}
    unknown = sorted(wanted - {c.name for c in contenders})
    if unknown:
        raise SystemExit(f"unknown contender(s) {unknown}; choose from: "
                         + ", ".join(c.name for c in contenders))
    return [c for c in contenders if c.name in wanted or c.name in (RAW, TICK)]


def _chosen_sections(p: argparse.ArgumentParser, names: str | None) -> list[Section]:
    if names is None:
        return list(SECTIONS)
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = sorted(set(wanted) - {s.name for s in SECTIONS})
    if unknown:
        p.error(f"unknown section(s) {unknown}; choose from: "
                + ", ".join(s.name for s in SECTIONS))
    return [s for s in SECTIONS if s.name in wanted]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(peer_missing: bool = False) -> str:
    """One line naming the machine, OS, Python and the contenders' versions."""
    from importlib.metadata import version

    from ._peer import PEER_VERSION

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{_cpu()}, {os.cpu_count()} cores, load average {load}; {platform.platform()}; "
            f"{platform.python_implementation()} {platform.python_version()}; "
            f"pygame-ce {version('pygame-ce')}; airlock-py {PEER_VERSION}"
            + (" (unavailable)" if peer_missing else ""))


def _subtitle(about: str) -> str:
    parts = about.split("; ")
    return f"{parts[0].split(', load')[0]}; {parts[2]}"


def _memory(contenders: list[Contender], frames: int) -> dict[str, dict[str, FrameMemory]]:
    """Empty, K=100 and K=10000 frames (the last for fewer frames: it is 100x the work).

    Warm-up is at least 300 frames: a frame counter passing 256 stops being a cached small
    int and holds one block from then on, which is not a leak.
    """
    found: dict[str, dict[str, FrameMemory]] = {}
    for c in contenders:
        loads = {"empty": (c.build("empty", 0, noop), frames, max(frames // 5, 300))}
        if c.supports("intents"):
            loads["K=100"] = (c.build("intents", 100, noop), frames, max(frames // 5, 300))
            big = max(frames // 100, 5)
            loads["K=10000"] = (c.build("intents", 10_000, noop), big, big)
        found[c.name] = {
            load: frame_memory(frame, n, warmup) for load, (frame, n, warmup) in loads.items()
        }
    return found


def _soaks(frames: int) -> dict[str, dict[str, Soak]]:
    """Each tick soak on each core (``soak.CORES``), each in a fresh interpreter."""
    if frames <= 0:
        return {}
    return {
        f"tick, {k} intents per frame": {
            core: soak_in_subprocess(k, frames, core=core) for core in CORES
        }
        for k in (0, 1, 10)
    }


def _budgets(backlog: int, rounds: int) -> list[BudgetRatio]:
    """``python -m benchmarks.budget``'s comparison (at most 21 rounds: each builds a tick)."""
    return measure_budgets(backlog, min(rounds, 21)) if backlog > 0 else []


@dataclass
class Measured:
    """Everything one run measured."""

    results: Results
    memory: dict[str, dict[str, FrameMemory]]
    soaks: dict[str, dict[str, Soak]]  # {soak: {core: its soak}}
    budgets: list[BudgetRatio]
    sections: list[tuple[Section, SectionResult]] = field(default_factory=list)

    def checks(self) -> list[Check]:
        """The core targets, then each section's, with their known reasons."""
        checks = check_all(self.results, self.soaks, self.budgets)
        for _, result in self.sections:
            checks += result.checks
        return with_reasons(checks)


def render(measured: Measured, unavailable: dict[str, str], args: argparse.Namespace,
           about: str, contenders: list[Contender], seconds: float) -> str:
    results, memory, soaks = measured.results, measured.memory, measured.soaks
    checks = measured.checks()
    mode = "quick" if args.quick else "full"
    lines = [
        "# Performance: airlock-tick side by side",
        "",
        f"Generated by `python -m benchmarks.report` ({mode} mode: {args.rounds} interleaved "
        f"rounds of ~{args.sample_ms:g} ms samples per contender and cell, {args.clock} clock; "
        f"{seconds:.0f} s) on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        f"Machine: {about}.",
        "",
        "All contenders run in one process; each round samples every contender of a cell in "
        "turn (rotating the order), so noise from other processes hits them alike. Ratios use "
        "medians. The effects are no-op functions, so these are the costs of the mechanism "
        "itself. Targets are never asserted as timings in tests; they are checked here.",
        "",
        "## Targets",
        "",
        targets_table(checks),
        "",
        "## Where the remaining gaps come from",
        "",
        GAPS.read_text().strip(),
        "",
        "## Contenders",
        "",
        *[f"- **{c.name}**: {c.note}" for c in contenders],
        *[f"- **{name}**: unavailable — {reason}" for name, reason in unavailable.items()],
        "",
        f"![per-intent cost versus K]({CHART})",
        "",
        "## Side by side",
        "",
        side_by_side(results),
        *[f"## {section.title}\n\n{result.markdown}\n" for section, result in measured.sections],
        "## Memory per frame",
        "",
        "Retained blocks: growth of `sys.getallocatedblocks()` after warm-up (0 = nothing "
        "kept). Transient peak: `tracemalloc` peak within one frame (Python heap only; SDL's "
        "C-side queue is not seen).",
        "",
        memory_table(memory),
        "",
        "## Soak",
        "",
        "`sys.getallocatedblocks()` after a full collection at 10 evenly spaced checkpoints, "
        "relative to the count after warm-up, on both cores side by side: the compiled kernel "
        "and the pure core (`AIRLOCK_NO_EXTENSIONS=1`), each soak in a fresh interpreter that "
        "runs only the tick (`python -m benchmarks.soak`). Sustained growth is the lowest "
        "reading of the second half (a leak raises every later reading); time is the soak's "
        "frames and checkpoints, wall clock.",
        "",
        soak_table(soaks) if soaks else "(skipped: --soak 0)",
        "",
        "## Budgeted frames with a backlog",
        "",
        "`python -m benchmarks.budget`: a tick frame under `max_per_frame=100` or "
        "`max_flush_ms=1`, with intents carried from earlier frames, against the same frame "
        "with nothing carried; interleaved pairs of frames, one ratio per pair.",
        "",
        "\n".join(f"    {b.line()}" for b in measured.budgets)
        if measured.budgets else "(skipped: --budget-backlog 0)",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    contenders, unavailable = make_contenders()
    contenders = _chosen(contenders, args.contenders)
    about = machine(PEER in unavailable)
    for name, reason in unavailable.items():
        print(f"note: {name} unavailable: {reason}", file=sys.stderr)
    for c in contenders:
        c.open()
    try:
        results = compare(contenders, quick=args.quick, rounds=args.rounds,
                          sample_ms=args.sample_ms, clock=args.clock,
                          progress=lambda line: print(f"  {line}", file=sys.stderr))
        print("  memory per frame", file=sys.stderr)
        memory = _memory(contenders, args.memory_frames)
    finally:
        for c in contenders:
            c.close()
    print(f"  soak ({args.soak:,} frames, compiled and pure, each in a fresh interpreter)",
          file=sys.stderr)
    soaks = _soaks(args.soak)
    print(f"  budgeted frames ({args.budget_backlog:,}-intent backlog)", file=sys.stderr)
    measured = Measured(results, memory, soaks, _budgets(args.budget_backlog, args.rounds))
    options = RunOptions(args.quick, args.rounds, args.sample_ms, args.clock)
    for section in args.sections:
        print(f"  {section.name}", file=sys.stderr)
        measured.sections.append((section, section.run(options, results)))
    for name in unmatched(measured.checks()) if args.sections == SECTIONS else ():
        print(f"note: benchmarks/reasons.py has a reason for {name!r}, which no check has",
              file=sys.stderr)
    text = render(measured, unavailable, args, about, contenders, time.perf_counter() - started)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text)
    per_intent_chart(results, args.out / CHART, _subtitle(about))
    print(f"wrote {args.out / 'results.md'} and {args.out / CHART}", file=sys.stderr)
    missed = [c for c in measured.checks() if c.passed is False]
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
