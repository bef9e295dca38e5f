"""``python -m benchmarks.profiling`` names the airlock functions a frame spends time in."""

from __future__ import annotations

import pytest

import airlock
from benchmarks import profiling


def test_profile_lists_airlock_functions(capsys: pytest.CaptureFixture[str]) -> None:
    # a frame under a local policy that drops: its frame's end and pipeline are Python,
    # compiled kernel or not (a plain, keyed, batch or ordered frame runs in the kernel where
    # it is built, its frame's end included)
    assert profiling.main(["local_drop", "100", "--frames", "50", "--top", "80"]) == 0
    out = capsys.readouterr().out
    assert "50 frames of local_drop 100 with airlock tick" in out
    assert "airlock/_frame.py" in out and "airlock/_pipeline.py" in out
    if not airlock.compiled:
        assert profiling.main(["batch", "100", "--frames", "50", "--top", "30"]) == 0
        out = capsys.readouterr().out
        assert "airlock/_enqueue.py" in out and "airlock/_batch.py" in out


def test_profile_refuses_a_contender_that_cannot_run_the_workload() -> None:
    with pytest.raises(SystemExit):
        profiling.main(["batch", "100", "pygame queue"])
