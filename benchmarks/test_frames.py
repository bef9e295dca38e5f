"""One benchmark per (workload, size, contender), grouped so each group compares contenders.

After timing, the same frame is rebuilt around a recorder to check it did the claimed work.
"""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from .contenders import Contender
from .effects import Recorder, noop
from .expect import expected_calls
from .suite import case_id, cases
from .workloads import BY_NAME


@pytest.mark.parametrize(("workload", "param", "name"), cases(), ids=map(case_id, cases()))
def test_frame(
    benchmark: BenchmarkFixture, opened: dict[str, Contender], workload: str, param: int,
    name: str,
) -> None:
    contender = opened[name]
    w = BY_NAME[workload]
    benchmark.group = w.group(param)
    benchmark.extra_info["intents_per_frame"] = w.units(param)
    benchmark(contender.build(workload, param, noop))  # run once when timing is off

    recorder = Recorder()
    frame = contender.build(workload, param, recorder)
    frame()
    frame()
    assert recorder.calls == expected_calls(workload, param) * 2
