"""``python -m benchmarks.report`` end to end, in its smallest configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import report


def test_quick_report_writes_markdown_and_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--rounds", "2", "--sample-ms", "0.2", "--soak", "1000",
            "--memory-frames", "50", "--out", str(tmp_path)]
    assert report.main(argv) == 0
    text = (tmp_path / "results.md").read_text()
    assert text in capsys.readouterr().out
    for heading in ("## Targets", "## Side by side", "## Memory per frame", "## Soak"):
        assert heading in text
    assert "CPython" in text
    assert "| airlock tick |" in text
    assert ("**PASS**" in text) or ("**MISS**" in text)
    assert (tmp_path / "per-intent.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
