"""``python -m benchmarks.report`` end to end, in a seconds-long configuration, and its options.

The run happens in a child process, as from the command line: the memory and soak sections
force full collections, which in the test process (with every test module loaded) would cost
many times more than the measurements themselves.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import reasons, report
from benchmarks.checks import Check

ROOT = Path(__file__).resolve().parent.parent
#: the smallest run that still goes through every section: 2 rounds, tiny samples and soaks,
#: and only the contenders that need no framework
SMOKE = ["--quick", "--rounds", "2", "--sample-ms", "0.2", "--soak", "1000",
         "--memory-frames", "50", "--budget-backlog", "2000",
         "--contenders", "hand-written scope,ContextVar set+reset,airlock tick (pure)"]


@pytest.mark.ci_only("a quick run of the side-by-side report, every section and the chart")
def test_quick_report_writes_markdown_and_png(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.report", *SMOKE, "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "results.md").read_text()
    assert text in done.stdout
    for heading in ("## Targets", "## Side by side", "## Memory per frame", "## Soak",
                    "## Budgeted frames with a backlog", "## Tick features per intent",
                    "## Fresh scope per unit of work vs airlock-py"):
        assert heading in text
    assert "CPython" in text
    assert "| airlock tick |" in text and "| hand-written scope |" in text
    assert "| airlock tick (pure) |" in text
    assert "| compiled: sustained growth | compiled: time | pure: growth at checkpoints" in text
    for core in ("compiled", "pure"):
        assert f"| no block growth: tick, 10 intents per frame ({core}) | 0 blocks |" in text
    assert "airlock-py |" not in text  # left out by --contenders
    assert "spread (middle half of rounds)" in text
    assert "| budgeted frame (max_per_frame=100) with a 2,000-intent backlog within 2x" in text
    assert "| `@airlock.batch` effect: per intent vs plain enqueue, K=100 |" in text
    assert ("**PASS" in text) or ("**MISS" in text)
    assert (tmp_path / "per-intent.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_results_go_to_out_unless_the_docs_are_asked_for() -> None:
    assert report._parse([]).out == report.OUT == Path("out", "performance")
    assert report._parse([]).budget_backlog == 1_000_000
    assert report._parse(["--quick"]).budget_backlog == 20_000
    assert report._parse(["--quick"]).out == report.OUT
    assert report._parse(["--update-docs"]).out == report.DOCS
    assert report._parse(["--out", "x"]).out == Path("x")


@pytest.mark.parametrize("argv", [["--quick", "--update-docs"], ["--update-docs", "--out", "x"]])
def test_only_a_full_run_updates_the_committed_results(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        report._parse(argv)
    assert "--update-docs writes a full run into docs/performance" in capsys.readouterr().err


def test_unknown_contenders_are_named() -> None:
    from benchmarks.contenders.raw import Raw

    with pytest.raises(SystemExit, match=r"unknown contender\(s\) \['nope'\]; choose from: raw"):
        report._chosen([Raw()], "nope")


def test_sections_are_chosen_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert [s.name for s in report._parse([]).sections] == [s.name for s in report.SECTIONS]
    assert [s.name for s in report._parse(["--sections", "fresh-scope"]).sections] == [
        "fresh-scope"]
    assert report._parse(["--sections", ""]).sections == []
    with pytest.raises(SystemExit):
        report._parse(["--sections", "features,nope"])
    assert "unknown section(s) ['nope']; choose from: features" in capsys.readouterr().err


def test_section_checks_follow_the_core_ones_with_their_reasons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks.compare import Results
    from benchmarks.sections import Section, SectionResult

    found = SectionResult("text", [Check("extra target", "<= 1x", "2.0x", False)])
    section = Section("extra", "Extra", lambda options, results: found)
    monkeypatch.setitem(reasons.REASONS, "extra target", "known: see gaps.md")
    checks = report.Measured(Results(), {}, {}, [], [(section, found)]).checks()
    assert checks[-1].name == "extra target" and checks[-1].reason == "known: see gaps.md"
    assert checks[0].name.startswith("airlock tick within 1.5x of raw")


@pytest.mark.ci_only("the per-intent chart, drawn with matplotlib (the dev extra)")
def test_the_chart_draws_the_pure_tick_beside_the_compiled_one() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from benchmarks.chart import _plot
    from benchmarks.compare import Cell
    from benchmarks.contenders import RAW, TICK, TICK_PURE
    from benchmarks.timing import Measurement
    from benchmarks.workloads import BY_NAME

    cells = [Cell(BY_NAME["intents"], k, {name: Measurement([k * ns, k * ns])
                                          for name, ns in ((RAW, 50), (TICK, 60),
                                                           (TICK_PURE, 90))})
             for k in (1, 10, 100)]
    fig, ax = plt.subplots()
    try:
        _plot(ax, cells, [RAW, TICK, TICK_PURE], over_raw=True)
        lines = {line.get_label(): line for line in ax.get_lines()}
        pure: Any = lines[TICK_PURE].get_ydata()
    finally:
        plt.close(fig)
    assert set(lines) == {RAW, TICK, TICK_PURE}
    assert list(pure) == pytest.approx([1.8] * 3)  # per intent over raw's
    assert lines[TICK_PURE].get_linestyle() != lines[TICK].get_linestyle()
