"""The per-intent cost chart: one line per contender over K, log-log (matplotlib, Agg).

Left: ns per intent. Right: the same divided by raw's, which cancels the machine's own
growth with K (caches) and shows what each mechanism adds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .compare import Cell, Results
from .contenders import RAW

__all__ = ["per_intent_chart"]

_STYLE: dict[str, dict[str, Any]] = {
    "raw": {"color": "black", "linestyle": "--"},
    "hand-written scope": {"color": "grey", "linestyle": ":"},
    "airlock tick": {"color": "tab:blue", "linewidth": 2.5},
    "airlock tick (pure)": {"color": "tab:blue", "linewidth": 1.5, "linestyle": "-."},
    "airlock scope": {"color": "tab:cyan", "linewidth": 2.0},
    "airlock-py": {"color": "tab:red"},
    "pygame queue": {"color": "tab:green"},
    "asyncio call_soon": {"color": "tab:orange"},
}


def _plot(ax: Any, cells: list[Cell], names: list[str], over_raw: bool) -> None:
    labelled: list[float] = []
    for name in names:
        points = [
            (c.param, c.per_intent(name) / (c.per_intent(RAW) if over_raw else 1.0))
            for c in cells
            if name in c.by_contender
        ]
        ks, ys = zip(*points, strict=True)
        ax.plot(ks, ys, marker="o", label=name, **_STYLE.get(name, {}))
        if all(abs(ys[-1] / other - 1) > 0.12 for other in labelled):  # skip overlapping labels
            labelled.append(ys[-1])
            text = f"{ys[-1]:.2f}x" if over_raw else f"{ys[-1]:.0f} ns"
            ax.annotate(text, (ks[-1], ys[-1]), textcoords="offset points", xytext=(6, 0),
                        va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks([c.param for c in cells], [f"{c.param:,}" for c in cells])
    ax.set_xlim(right=cells[-1].param * 4)
    ax.set_xlabel("K: no-op intents per frame")
    ax.grid(True, which="both", alpha=0.3)


def per_intent_chart(results: Results, path: Path, subtitle: str) -> None:
    """Write a PNG of median ns per intent (and its ratio to raw) versus K, every contender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = sorted((c for c in results.cells if c.workload.name == "intents"),
                   key=lambda c: c.param)
    names = list(cells[0].by_contender) if cells else []
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6), dpi=100)
    _plot(left, cells, names, over_raw=False)
    left.set_ylabel("ns per intent (median; enqueue + flush + call)")
    left.set_title("Per-intent cost (lower is better)", fontsize=10)
    _plot(right, cells, names, over_raw=True)
    right.set_ylabel("per-intent cost / raw's, same K")
    right.axhline(1.5, color="tab:blue", linewidth=0.8, linestyle=(0, (4, 4)))
    right.annotate("target for airlock tick: 1.5x (K >= 10)", (1, 1.5), xytext=(0, 4),
                   textcoords="offset points", fontsize=8, color="tab:blue")
    ticks = [t for t in (1, 1.5, 2, 3, 5, 10, 20, 50) if t <= right.get_ylim()[1]]
    right.set_yticks(ticks, [f"{t:g}x" for t in ticks])
    right.minorticks_off()
    right.set_title("Relative to the hand-written buffer", fontsize=10)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(names), fontsize=9, frameon=False)
    fig.suptitle(f"Frames of K no-op effects — {subtitle}", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
