"""``python -m benchmarks.budget`` end to end, in its seconds-long quick mode.

Only the form of the output is checked: the verdict belongs to a full run, never to a test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from benchmarks import budget

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(
    r"^(?P<name>max_per_frame=100|max_flush_ms=1) +backlog +(?P<backlog>[\d,]+) +with +[\d.]+ us"
    r" +without +[\d.]+ us +ratio +(?P<ratio>[\d.]+)x \(middle half [\d.]+-[\d.]+x\) +"
    r"(?P<verdict>PASS|MISS) \(<= 2x\)$"
)


def test_quick_run_prints_one_ratio_and_verdict_per_budget() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.budget", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    header, *lines = done.stdout.splitlines()
    assert header.startswith("budgeted frame with a 20,000-intent backlog / the same frame")
    found = [LINE.match(line) for line in lines]
    assert all(found), lines
    assert [m["name"] for m in found if m] == ["max_per_frame=100", "max_flush_ms=1"]
    assert all(m["backlog"] == "20,000" and float(m["ratio"]) > 0 for m in found if m)


def test_the_target_is_judged_by_the_median_ratio() -> None:
    result = budget.BudgetRatio("max_per_frame=100", 10, 3.0, 1.0, (1.5, 2.5, 1.9))
    assert result.ratio == 1.9 and result.passed
    assert not budget.BudgetRatio("x", 10, 3.0, 1.0, (2.1, 3.0)).passed
    assert "PASS (<= 2x)" in result.line()
