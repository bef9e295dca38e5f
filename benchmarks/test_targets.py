"""Target checks turn one run's ratios into PASS / MISS / n/a."""

from __future__ import annotations

from benchmarks.compare import Cell, Results
from benchmarks.contenders import ASYNCIO, CONTEXTVAR, HANDWRITTEN, PEER, PYGAME, RAW, TICK
from benchmarks.markdown import soak_table
from benchmarks.memory import Soak
from benchmarks.targets import check_all
from benchmarks.timing import Measurement
from benchmarks.workloads import BY_NAME


def _cell(workload: str, param: int, per_frame: dict[str, float]) -> Cell:
    return Cell(BY_NAME[workload], param, {n: Measurement([t]) for n, t in per_frame.items()})


def _results(tick_per_intent: float, with_peer: bool = True) -> Results:
    cells = []
    for k in (10, 100, 1000):
        times = {RAW: 100.0 * k, HANDWRITTEN: 105.0 * k, TICK: tick_per_intent * k,
                 PYGAME: 300.0 * k, ASYNCIO: 400.0 * k}
        if with_peer:
            times[PEER] = 1000.0 * k
        cells.append(_cell("intents", k, times))
    cells.append(_cell("empty", 0, {TICK: 450.0, CONTEXTVAR: 200.0, PEER: 5000.0}))
    return Results(cells)


def _verdicts(
    results: Results, soaks: dict[str, dict[str, Soak]] | None = None
) -> dict[str, str]:
    return {c.name: c.verdict for c in check_all(results, soaks or {})}


def test_fast_enough_passes_the_timing_targets() -> None:
    verdicts = _verdicts(_results(110.0))
    assert verdicts["airlock tick within 1.5x of raw per intent, K=10.."] == "PASS"
    assert verdicts["airlock tick at least 6x faster than airlock-py, every K"] == "PASS"
    assert verdicts["airlock tick faster than pygame queue, every K"] == "PASS"
    assert verdicts["empty tick frame within 2.5x of ContextVar set+reset (issue 15)"] == "PASS"
    assert verdicts["per-intent cost flat in K (K=1000 vs K=100)"] == "PASS"


def test_too_slow_misses_and_names_the_worst_case() -> None:
    checks = {c.name: c for c in check_all(_results(200.0), {})}
    raw = checks["airlock tick within 1.5x of raw per intent, K=10.."]
    assert raw.verdict == "MISS"
    assert raw.value.startswith("2.00x")
    assert checks["unused stats/hooks/coalescing/batching/ordering cost nothing: tick vs "
                  "hand-written scope, K=100.."].verdict == "MISS"


def test_missing_peer_is_not_a_pass() -> None:
    verdicts = _verdicts(_results(110.0, with_peer=False))
    assert verdicts["airlock tick at least 6x faster than airlock-py, every K"] == "PASS"
    # the empty cell still has the peer; drop it too
    results = _results(110.0, with_peer=False)
    results.cells[-1].by_contender.pop(PEER)
    assert _verdicts(results)["airlock tick at least 6x faster than airlock-py, every K"] == "n/a"


def test_soak_growth_is_a_miss_on_either_core() -> None:
    grown = Soak(100, 1000, [0, 2, 3])
    flat = Soak(100, 1000, [0, 1, 0])
    verdicts = _verdicts(_results(110.0), {"a": {"compiled": flat, "pure": grown},
                                           "b": {"compiled": grown, "pure": flat}})
    assert verdicts["no block growth: a (compiled)"] == "PASS"
    assert verdicts["no block growth: a (pure)"] == "MISS"
    assert verdicts["no block growth: b (compiled)"] == "MISS"
    assert verdicts["no block growth: b (pure)"] == "PASS"


def test_a_compiled_soak_that_ran_the_pure_core_is_not_judged() -> None:
    """Where the kernel is not built, the compiled soak's child ran the pure core."""
    ran_pure = Soak(100, 1000, [0, 0, 0], compiled=False)
    verdicts = _verdicts(_results(110.0), {"a": {"compiled": ran_pure, "pure": ran_pure}})
    assert verdicts["no block growth: a (compiled)"] == "n/a"
    assert verdicts["no block growth: a (pure)"] == "PASS"


def test_the_soak_table_puts_the_cores_side_by_side() -> None:
    table = soak_table({"tick, 1 intents per frame": {
        "compiled": Soak(1000, 5000, [0, 0, 0, 0], 1.25, True),
        "pure": Soak(1000, 5100, [0, 3, 0, 0], 2.5, False),
    }})
    header, _, row = table.splitlines()
    assert header == ("| soak | frames | compiled: growth at checkpoints | compiled: sustained "
                      "growth | compiled: time | pure: growth at checkpoints | pure: sustained "
                      "growth | pure: time |")
    assert row == ("| tick, 1 intents per frame | 1,000 | +0 +0 +0 +0 | +0 | 1.25 s "
                   "| +0 +3 +0 +0 | +0 | 2.5 s |")
    lone = soak_table({"x": {"compiled": Soak(10, 1, [0, 1], 0.5, False)}})
    assert "| +0 +1 (the kernel is not built: pure) | +1 | 0.5 s |" in lone


def test_verdicts_show_the_spread_and_flag_a_limit_inside_it() -> None:
    def cell(tick_rounds: list[float]) -> Cell:
        raw = Measurement([100.0] * len(tick_rounds))
        return Cell(BY_NAME["intents"], 10, {RAW: raw, TICK: Measurement(tick_rounds)})

    name = "airlock tick within 1.5x of raw per intent, K=10.."
    clear = {c.name: c for c in check_all(Results([cell([120.0, 125.0, 130.0, 135.0])]), {})}
    assert clear[name].verdict == "PASS" and clear[name].spread == "1.24-1.31x"
    noisy = {c.name: c for c in check_all(Results([cell([140.0, 145.0, 155.0, 160.0])]), {})}
    assert noisy[name].spread == "1.44-1.56x"
    assert noisy[name].verdict == "PASS (within noise)"  # median 1.50x: another run may miss


def test_the_budgeted_frame_target_comes_from_benchmarks_budget() -> None:
    from benchmarks.budget import BudgetRatio

    fast = BudgetRatio("max_per_frame=100", 1_000, 1.0, 1.0, (1.1, 1.2, 1.3))
    slow = BudgetRatio("max_flush_ms=1", 1_000, 5.0, 1.0, (4.0, 5.0, 6.0))
    checks = check_all(_results(110.0), {}, [fast, slow])[-2:]
    assert [c.verdict for c in checks] == ["PASS", "MISS"]
    assert checks[0].name == ("budgeted frame (max_per_frame=100) with a 1,000-intent backlog "
                              "within 2x of the same frame without")
    assert checks[1].value == "5.00x" and checks[1].spread == "4.50-5.50x"


def test_issue_15_tightens_the_plain_path_from_k_100_on() -> None:
    name = "airlock tick within 1.25x of raw per intent, K=100.. (issue 15)"
    assert _verdicts(_results(110.0))[name] == "PASS"
    slower = _verdicts(_results(130.0))
    assert slower[name] == "MISS"
    assert slower["airlock tick within 1.5x of raw per intent, K=10.."] == "PASS"


def test_an_empty_run_judges_nothing_it_did_not_measure() -> None:
    checks = check_all(Results(), {})
    assert {c.verdict for c in checks} == {"n/a"}
