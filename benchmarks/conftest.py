"""Benchmark suite fixtures: timing off in a plain test run, quick budgets when timed.

Plain ``python -m pytest`` collects this directory too. There, pytest-benchmark runs each
benchmarked frame once and times nothing (the root ``conftest.py`` turns timing off), so the
suite checks that every contender does the claimed work and prints no timing tables and no
verdicts: verdicts on the targets come only from ``python -m benchmarks.report``, which
interleaves the contenders over many rounds. ``python -m pytest benchmarks --benchmark-only``
(or any ``--benchmark-*`` timing option) times them; unless ``--benchmark-max-time`` or
``--benchmark-min-rounds`` is given, each benchmark then gets a short budget (see QUICK).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .contenders import Contender
from .suite import suite_contenders

QUICK = {"max_time": 0.02, "min_rounds": 3, "warmup": False}
_HERE = Path(__file__).resolve().parent
_TIMING_FLAGS = ("--benchmark-max-time", "--benchmark-min-rounds", "--benchmark-min-time")


def pytest_report_header(config: pytest.Config) -> list[str]:
    _, unavailable = suite_contenders()
    return [f"benchmarks: {name} unavailable: {why}" for name, why in unavailable.items()]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    args = config.invocation_params.args
    if any(str(a).startswith(_TIMING_FLAGS) for a in args):
        return
    for item in items:
        if _HERE in Path(str(item.path)).parents and "benchmark" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.benchmark(**QUICK))


@pytest.fixture(scope="session")
def opened() -> Iterator[dict[str, Contender]]:
    """Every available contender, opened once for the session."""
    contenders, _ = suite_contenders()
    for c in contenders.values():
        c.open()
    yield contenders
    for c in contenders.values():
        c.close()
