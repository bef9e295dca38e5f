"""The fresh-scope comparison (issue 15: >= 6x faster than airlock-py at every K from 0)."""

from __future__ import annotations

import pytest

from benchmarks import fresh_scope
from benchmarks.compare import Cell, Results
from benchmarks.contenders import PEER, SCOPE, TICK
from benchmarks.sections import RunOptions
from benchmarks.timing import Measurement
from benchmarks.workloads import BY_NAME


def _cell(workload: str, k: int, scope_ns: float, peer_ns: float | None) -> Cell:
    found = {SCOPE: Measurement([scope_ns, scope_ns, scope_ns * 1.1]),
             TICK: Measurement([1.0] * 3)}
    if peer_ns is not None:
        found[PEER] = Measurement([peer_ns] * 3)
    return Cell(BY_NAME[workload], k, found)


def test_the_report_section_reads_every_k_from_its_cells() -> None:
    results = Results([
        _cell("intents", 1, 1000.0, 3000.0), _cell("intents", 10, 1000.0, 7000.0),
        _cell("intents", 100, 1000.0, 8000.0), _cell("intents", 1000, 1000.0, 9000.0),
        _cell("empty", 0, 1000.0, 2000.0),
    ])
    run = fresh_scope.from_results(results)
    assert sorted(run.ours) == sorted(run.peer) == [0, 1, 10, 100]  # K=1000 is not asked
    verdicts = {k: run.check(k).verdict for k in run.ours}
    assert verdicts == {0: "MISS", 1: "MISS", 10: "PASS", 100: "PASS"}
    assert run.check(0).value == "2.00x" and run.check(0).spread == "1.91-2.00x"
    result = fresh_scope.SECTION.run(RunOptions(), results)
    assert "| 0 | 1,000 | 2,000 | 2.00x (1.91-2.00x) | **MISS** (>= 6x) |" in result.markdown
    assert result.checks == []  # the targets table has the every-K check already


def test_without_the_peer_nothing_passes() -> None:
    run = fresh_scope.from_results(Results([_cell("empty", 0, 1000.0, None)]))
    assert run.check(0).verdict == "n/a"
    assert "airlock-py was not measured" in run.check(0).value
    assert "not measured" in fresh_scope.markdown(fresh_scope.from_results(Results()))


def test_a_real_run_measures_both_at_every_k() -> None:
    run = fresh_scope.measure(RunOptions(rounds=2, sample_ms=0.05), ks=(0, 2))
    assert sorted(run.ours) == [0, 2]
    assert sorted(run.peer) == [0, 2] or run.unavailable
    assert [c.name for c in run.checks()] == [
        f"fresh airlock.scope() at least 6x faster than airlock-py, K={k}" for k in (0, 2)]


def test_a_run_without_the_peer_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks import _peer

    monkeypatch.setattr(_peer, "peer_or_none", lambda: (None, "no network"))
    run = fresh_scope.measure(RunOptions(rounds=2, sample_ms=0.05), ks=(1,))
    assert sorted(run.ours) == [1] and run.peer == {}
    assert run.check(1).verdict == "n/a" and run.check(1).value == "not measured (no network)"
