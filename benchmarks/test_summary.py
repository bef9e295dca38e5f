"""The terminal summary turns the recorded medians into the target table."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from benchmarks.conftest import MEDIANS, pytest_terminal_summary
from benchmarks.contenders import CONTEXTVAR, RAW, TICK


class _Reporter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_sep(self, sep: str, title: str) -> None:
        self.lines.append(title)

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def test_recorded_medians_are_printed_as_targets() -> None:
    stash = pytest.Stash()
    stash[MEDIANS] = {
        ("intents", 10, RAW): 1.0e-6, ("intents", 10, TICK): 1.4e-6,
        ("empty", 0, CONTEXTVAR): 2.0e-7, ("empty", 0, TICK): 8.0e-7,
    }
    reporter = _Reporter()
    pytest_terminal_summary(reporter, SimpleNamespace(stash=stash))  # type: ignore[arg-type]
    text = "\n".join(reporter.lines)
    assert "| airlock tick within 1.5x of raw per intent, K=10.. | <= 1.50x | 1.40x" in text
    assert "| empty tick frame within 3x of ContextVar set+reset | <= 3.00x | 4.00x" in text
    assert "n/a" not in text  # targets whose contenders did not run are left out


def test_nothing_is_printed_when_no_frame_was_timed() -> None:
    reporter = _Reporter()
    pytest_terminal_summary(reporter, SimpleNamespace(stash=pytest.Stash()))  # type: ignore[arg-type]
    assert reporter.lines == []
