"""Known reasons reach the checks they name, and a reason left behind by a rename is found."""

from __future__ import annotations

import pytest

from benchmarks.checks import Check
from benchmarks.markdown import targets_table
from benchmarks.reasons import REASONS, because, unmatched, with_reasons


def _checks() -> list[Check]:
    return [Check("fast", "<= 1x", "0.9x", True), Check("slow", "<= 1x", "2.0x", False)]


def test_a_known_reason_is_shown_in_a_why_column() -> None:
    assert "why" not in targets_table(_checks()).splitlines()[0]
    checks = with_reasons(_checks(), {"slow": "every enqueue builds an Intent"})
    assert [c.reason for c in checks] == ["", "every enqueue builds an Intent"]
    header, _, fast, slow = targets_table(checks).splitlines()
    assert header.endswith("| verdict | why |")
    assert fast.endswith("| **PASS** | - |")
    assert slow.endswith("| **MISS** | every enqueue builds an Intent |")


def test_a_reason_given_by_the_check_itself_stays() -> None:
    check = Check("slow", "<= 1x", "2.0x", False, reason="measured too briefly")
    assert with_reasons([check], {"slow": "other"})[0].reason == "measured too briefly"


def test_reasons_naming_no_check_are_listed() -> None:
    assert unmatched(_checks(), {"slow": "x", "renamed": "y"}) == ["renamed"]
    assert all(isinstance(k, str) and v for k, v in REASONS.items())


def test_tables_of_the_sections_show_a_known_reason_after_the_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from benchmarks import features, fresh_scope
    from benchmarks.feature_frames import FEATURES
    from benchmarks.timing import Measurement

    batch = "`@airlock.batch` effect: per intent vs plain enqueue, K=100"
    monkeypatch.setitem(REASONS, batch, "payloads still build intents")
    measured = {(f.name, side, 100): Measurement([100.0 if f.name == "plain" else 900.0])
                for f in FEATURES for side in (features.OURS, features.HAND)}
    run = features.FeatureRun(FEATURES, (100,), measured)
    assert "**MISS** (<= 1.25x): payloads still build intents |" in features.feature_table(run)
    scope_check = "fresh airlock.scope() at least 6x faster than airlock-py, K=0"
    monkeypatch.setitem(REASONS, scope_check, "building a Scope")
    scopes = fresh_scope.ScopeRun({0: Measurement([1.0])}, {0: Measurement([2.0])})
    assert "**MISS** (>= 6x): building a Scope |" in fresh_scope.markdown(scopes)
    assert because(scopes.check(0)) == ": building a Scope"
