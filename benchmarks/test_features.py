"""``python -m benchmarks.features`` and its report section, in seconds-long configurations.

Only the form of the output and the verdict logic (on made-up measurements) are checked: the
verdicts of a real run belong to ``python -m benchmarks.features`` and the report.
"""

from __future__ import annotations

import re

import pytest

from benchmarks import features, reasons
from benchmarks.compare import Results
from benchmarks.feature_frames import FEATURES, PLAIN
from benchmarks.sections import RunOptions
from benchmarks.timing import Measurement

TINY = RunOptions(quick=True, rounds=2, sample_ms=0.05)
ROW = re.compile(r"^\| (?P<title>[^|]+) \| (?P<k>\d+) \| [\d.,]+ \| [\d.,]+ \| (?P<vs>[^|]+) \| "
                 r"(?P<verdict>[^|]+) \| [\d.]+x \| [\d.]+x \| [\d.]+x \|$")


def _run(per_frame: dict[str, tuple[float, float]], ks: tuple[int, ...] = (10, 100)
         ) -> features.FeatureRun:
    """A made-up run: per feature, (airlock, hand-written) ns per intent in every round."""
    measured = {}
    for f in FEATURES:
        ours, hand = per_frame.get(f.name, per_frame[PLAIN])
        for k in ks:
            measured[f.name, features.OURS, k] = Measurement([ours * k] * 3)
            measured[f.name, features.HAND, k] = Measurement([hand * k] * 3)
    return features.FeatureRun(FEATURES, ks, measured)


def test_the_limits_are_the_issues() -> None:
    assert (features.limit_for(10), features.limit_for(100), features.limit_for(1000)) == (
        1.5, 1.25, 1.25)
    assert features.limit_for(100, "observer-hooks") == 2.0


def test_a_feature_over_its_limit_misses_and_one_under_it_passes() -> None:
    run = _run({PLAIN: (100.0, 60.0), "batch": (120.0, 10.0), "policy": (140.0, 70.0)})
    checks = {c.name: c for c in run.checks()}
    assert len(checks) == (len(FEATURES) - 1) * 2  # no check for plain itself
    batch = "`@airlock.batch` effect: per intent vs plain enqueue, K=100"
    assert checks[batch].verdict == "PASS" and checks[batch].value == "1.20x"
    policy = "inside `airlock.policy(AllowAll())`: per intent vs plain enqueue, K={}"
    assert checks[policy.format(100)].verdict == "MISS"
    assert checks[policy.format(10)].verdict == "PASS"  # 1.4x: within 1.5x at K=10


def test_the_table_shows_each_ratio_of_each_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reasons, "REASONS", {})  # the row without a known reason
    run = _run({PLAIN: (100.0, 50.0), "key-one": (300.0, 25.0)})
    lines = features.feature_table(run).splitlines()
    rows = {(m["title"], m["k"]): line for line in lines if (m := ROW.match(line))}
    assert len(rows) == len(FEATURES) * 2, lines
    key_one = rows["`_key` coalescing, one key", "100"]
    # ns/intent 300 and 25; 3x plain (MISS); 6x the list buffer, 0.5x; 12x its own
    assert key_one == ("| `_key` coalescing, one key | 100 | 300 | 25.0 | 3.00x (3.00-3.00x) | "
                       "**MISS** (<= 1.25x) | 6.00x | 0.50x | 12.00x |")
    assert rows["plain `enqueue(f, i)`", "10"].split(" | ")[4:6] == ["1.00x", "-"]
    assert "Hand-written equivalents:" in features.markdown(run)


def test_a_real_run_measures_every_chosen_feature_and_side() -> None:
    run = features.measure(TINY, ks=(2, 5), names=["batch"])
    assert [f.name for f in run.features] == [PLAIN, "batch"]  # plain always runs
    assert set(run.measured) == {(f, side, k) for f in (PLAIN, "batch")
                                 for side in (features.OURS, features.HAND) for k in (2, 5)}
    assert all(len(m.samples) == 2 for m in run.measured.values())
    assert [c.name.rsplit("K=", 1)[1] for c in run.checks()] == ["2", "5"]


def test_the_command_prints_both_tables(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--quick", "--rounds", "2", "--sample-ms", "0.05", "--k", "3", "--features",
            "key-one,observer"]
    assert features.main(argv) == 0
    out = capsys.readouterr().out
    titles = [m["title"] for line in out.splitlines() if (m := ROW.match(line))]
    assert titles == ["plain `enqueue(f, i)`", "`_key` coalescing, one key",
                      "one `Observer` attached, overriding nothing"]
    assert "airlock.scope() ns/frame" in out  # the fresh-scope comparison follows
    assert re.search(r"^\| 0 \| [\d.,]+ \| ", out, re.MULTILINE)


def test_strict_exits_1_on_a_miss(monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(features, "measure", lambda *a: _run({PLAIN: (100.0, 50.0),
                                                              "batch": (900.0, 5.0)}))
    assert features.main(["--no-scope", "--strict"]) == 1
    assert features.main(["--no-scope"]) == 0
    assert "airlock.scope()" not in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["--k", "0"], "--k takes sizes of at least 1"),
    (["--k", "ten"], "--k takes sizes like 10,100"),
    (["--features", "plain,nope"], "unknown feature(s) ['nope']; choose from: plain, key-"),
])
def test_bad_arguments_are_explained(argv: list[str], message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        features.main(argv)
    assert message in capsys.readouterr().err


def test_the_report_section_measures_and_brings_its_checks() -> None:
    result = features.SECTION.run(TINY, Results())
    assert "| feature | K |" in result.markdown
    assert len(result.checks) == (len(FEATURES) - 1) * len(features.KS)
    assert all(c.passed is not None for c in result.checks)
