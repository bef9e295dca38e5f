"""A plain test run of the benchmarks times nothing and prints no verdicts or timing tables:
verdicts on the targets belong to ``python -m benchmarks.report``."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
         "benchmarks/test_frames.py", "-k", "empty", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.ci_only("a plain pytest run of the benchmarks, in a subprocess")
def test_a_plain_run_prints_no_verdicts_and_no_timings() -> None:
    out = run_pytest("-q")
    assert "passed" in out.splitlines()[-1]
    for word in ("PASS", "MISS", "performance targets", "benchmark 'empty-0'", "Median"):
        assert word not in out, f"{word!r} in a plain test run's output:\n{out}"


@pytest.mark.parametrize(
    ("args", "timed"),
    [((), False), (("-q", "benchmarks"), False), (("--benchmark-disable",), False),
     (("--benchmark-only",), True), (("--benchmark-enable",), True),
     (("--benchmark-max-time=1",), True)],
)
def test_timing_is_on_only_when_a_benchmark_option_asks(args: tuple[str, ...], timed: bool) -> None:
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    assert spec is not None and spec.loader is not None
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    config = SimpleNamespace(invocation_params=SimpleNamespace(args=args),
                             option=SimpleNamespace(benchmark_disable=False))
    root_conftest.pytest_configure(config)
    assert config.option.benchmark_disable is not timed
