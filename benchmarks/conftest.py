"""Benchmark suite fixtures: quick timing defaults and opened contenders.

Plain ``python -m pytest`` collects this directory too, so unless ``--benchmark-max-time`` or
``--benchmark-min-rounds`` is given, every benchmark gets a short budget (see QUICK). After the
run, the targets are checked against the frames' medians and printed in the terminal summary.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .compare import Cell, Results
from .contenders import Contender
from .markdown import targets_table
from .suite import suite_contenders
from .targets import check_all
from .timing import Measurement
from .workloads import BY_NAME

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


#: median seconds per frame, by (workload, param, contender), of this run's timed frames
MEDIANS = pytest.StashKey[dict[tuple[str, int, str], float]]()


@pytest.fixture
def medians(request: pytest.FixtureRequest) -> dict[tuple[str, int, str], float]:
    """Where ``test_frame`` records each timed frame's median for the terminal summary."""
    return request.config.stash.setdefault(MEDIANS, {})


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's tables
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    found = config.stash.get(MEDIANS, {})
    if not found:
        return
    results = Results()
    for (workload, param, name), median in found.items():
        cell = results.cell(workload, param)
        if cell is None:
            cell = Cell(BY_NAME[workload], param)
            results.cells.append(cell)
        cell.by_contender[name] = Measurement([median])
    checks = [c for c in check_all(results, {}) if c.passed is not None]
    terminalreporter.write_sep("-", "airlock-tick performance targets (pytest-benchmark medians)")
    terminalreporter.write_line(targets_table(checks))
    terminalreporter.write_line(
        "Medians of frames timed one after another; `python -m benchmarks.report` interleaves "
        "the contenders and is the reference."
    )


@pytest.fixture(scope="session")
def opened() -> Iterator[dict[str, Contender]]:
    """Every available contender, opened once for the session."""
    contenders, _ = suite_contenders()
    for c in contenders.values():
        c.open()
    yield contenders
    for c in contenders.values():
        c.close()
