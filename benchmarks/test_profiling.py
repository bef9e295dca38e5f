"""``python -m benchmarks.profiling`` names the airlock functions a frame spends time in."""

from __future__ import annotations

import pytest

import airlock
from benchmarks import profiling


def test_profile_lists_airlock_functions(capsys: pytest.CaptureFixture[str]) -> None:
    assert profiling.main(["intents", "10", "--frames", "200", "--top", "30"]) == 0
    out = capsys.readouterr().out
    assert "200 frames of intents 10 with airlock tick" in out
    assert "airlock/_frame.py" in out  # the frame's closures
    if not airlock.compiled:  # (the compiled kernel's enqueue is not a Python function)
        assert "airlock/_enqueue.py" in out


def test_profile_refuses_a_contender_that_cannot_run_the_workload() -> None:
    with pytest.raises(SystemExit):
        profiling.main(["batch", "100", "pygame queue"])
