"""Markdown rendering of one run: machine, targets, side-by-side tables, memory, soak."""

from __future__ import annotations

from collections.abc import Callable

from .checks import Check
from .compare import Cell, Results
from .contenders import PEER, RAW
from .memory import FrameMemory, Soak

__all__ = ["memory_table", "ns", "side_by_side", "soak_table", "table", "targets_table"]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def targets_table(checks: list[Check]) -> str:
    """One row per check; a "why" column when any check has a known reason."""
    header = ["target", "wanted", "measured (median of rounds)",
              "spread (middle half of rounds)", "verdict"]
    rows = [[c.name, c.target, c.value, c.spread or "-", f"**{c.verdict}**"] for c in checks]
    if any(c.reason for c in checks):
        header.append("why")
        for row, c in zip(rows, checks, strict=True):
            row.append(c.reason or "-")
    return table(header, rows)


def ns(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _matrix(cells: list[Cell], value: Callable[[Cell, str], str | None]) -> str:
    label = "K" if cells[0].workload.name not in ("nested",) else "depth"
    names = list(dict.fromkeys(n for c in cells for n in c.by_contender))
    rows = []
    for name in names:
        row = [name] + [value(c, name) or "-" for c in cells]
        rows.append(row)
    return table(["contender"] + [f"{label}={c.param}" for c in cells], rows)


def _ratio(baseline: str) -> Callable[[Cell, str], str | None]:
    def value(cell: Cell, name: str) -> str | None:
        ratio = cell.ratio(name, baseline)
        return None if ratio is None else f"{ratio:.2f}x"

    return value


def _timing(cell: Cell, name: str) -> str | None:
    m = cell.by_contender.get(name)
    if m is None:
        return None
    units = cell.workload.units(cell.param)
    return f"{ns(m.median / units)} ({ns(m.min / units)})"


def side_by_side(results: Results) -> str:
    """Per workload: ns per unit (median, min), then ratios against raw and airlock-py."""
    parts: list[str] = []
    seen: list[str] = []
    for cell in results.cells:
        if cell.workload.name not in seen:
            seen.append(cell.workload.name)
    for name in seen:
        cells = [c for c in results.cells if c.workload.name == name]
        w = cells[0].workload
        unit = "frame" if w.name == "empty" else "intent"
        parts.append(f"### {w.title}\n\nOne frame: {w.what}.\n")
        parts.append(f"ns per {unit}, median of rounds (min in parentheses):\n\n"
                     + _matrix(cells, _timing) + "\n")
        parts.append(f"Ratio against **{RAW}** (lower is better):\n\n"
                     + _matrix(cells, _ratio(RAW)) + "\n")
        if any(PEER in c.by_contender for c in cells):
            parts.append(f"Ratio against **{PEER}** (below 1 = faster than airlock-py):\n\n"
                         + _matrix(cells, _ratio(PEER)) + "\n")
    return "\n".join(parts)


def memory_table(memory: dict[str, dict[str, FrameMemory]]) -> str:
    rows = []
    for name, by_load in memory.items():
        for load, m in by_load.items():
            rows.append([name, load, f"{m.retained_per_1000:+.1f}", f"{m.peak_bytes:,}",
                         f"{m.gen0_per_1000:.1f}"])
    return table(["contender", "frame", "retained blocks / 1000 frames",
                  "transient peak bytes / frame", "gen-0 GCs / 1000 frames"], rows)


def soak_table(soaks: dict[str, dict[str, Soak]]) -> str:
    """One row per soak; its cores side by side: growth at the checkpoints, sustained growth
    and the time the soak took, each core's in its own columns."""
    cores = list(dict.fromkeys(core for by_core in soaks.values() for core in by_core))
    header = ["soak", "frames"]
    for core in cores:
        header += [f"{core}: growth at checkpoints", f"{core}: sustained growth",
                   f"{core}: time"]
    rows = []
    for name, by_core in soaks.items():
        frames = {s.frames for s in by_core.values()}
        row = [name, ", ".join(f"{n:,}" for n in sorted(frames))]
        for core in cores:
            s = by_core.get(core)
            row += ["-"] * 3 if s is None else [
                " ".join(f"{d:+d}" for d in s.deltas) + _ran(core, s), f"{s.growth:+d}",
                f"{s.seconds:.3g} s"]
        rows.append(row)
    return table(header, rows)


def _ran(core: str, soak: Soak) -> str:
    """A note when a soak ran on another core than asked (the kernel is not built)."""
    if core == "compiled" and soak.compiled is False:
        return " (the kernel is not built: pure)"
    return ""
