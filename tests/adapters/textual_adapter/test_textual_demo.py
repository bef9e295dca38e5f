"""The board demo: a scripted session headless, checked through its SVG screenshot."""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from pathlib import Path

from demos import board
from demos.board._app import BoardApp
from demos.board._script import scripted_screenshot

DOCS_SVG = Path(__file__).parents[3] / "docs" / "img" / "textual-inspector.svg"
_TEXT = re.compile(
    r'<text[^>]* x="([\d.]+)"[^>]*clip-path="url\(#terminal-\d+-line-(\d+)\)">([^<]*)</text>'
)


def screen_lines(svg: str) -> list[str]:
    """The screen's text, one string per terminal line (the SVG keeps text runs per line)."""
    runs: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for x, line, text in _TEXT.findall(svg):
        runs[int(line)].append((float(x), html.unescape(text).replace("\xa0", " ")))
    return ["".join(text for _, text in sorted(runs[n])) for n in sorted(runs)]


def normalized(lines: list[str]) -> list[str]:
    """Lines with tick numbers hidden: they depend on how many idle events Textual sent."""
    return [re.sub(r"tick \d+", "tick N", line).rstrip() for line in lines]


async def test_scripted_session_shows_board_status_and_inspector(tmp_path: Path) -> None:
    app = BoardApp(tmp_path)
    lines = screen_lines(await scripted_screenshot(app))
    text = "\n".join(lines)
    assert "airlock · effects per tick" in text
    assert "server got 5 events in 3 datagrams · OFFLINE" in text
    assert re.search(r"tick \d+: 4 enqueued → 3 released, 1 dropped", text)
    assert "✗ SyncClient.send({'op': 'add', 'card': 'New card…" in text  # dropped offline
    assert "captured ← BoardApp.on_card_moved" in text
    saved = json.loads((tmp_path / "board.json").read_text())
    assert saved == {
        "todo": ["New card 2"],
        "doing": ["Write spec", "Fix tick bug", "Ship demo", "New card 1"],
        "done": [],
    }
    assert app.store.saves == 5  # one save per tick, however many moves the tick had
    assert app.server.datagrams == 3  # one datagram per tick that sent events (batched)


async def test_the_committed_screenshot_matches_the_demo(tmp_path: Path) -> None:
    fresh = normalized(screen_lines(await scripted_screenshot(BoardApp(tmp_path))))
    committed = normalized(screen_lines(DOCS_SVG.read_text(encoding="utf-8")))
    assert fresh == committed, "regenerate: python -m demos board --screenshot " + str(DOCS_SVG)


def test_main_writes_the_screenshot_and_the_demo_is_listed(tmp_path: Path) -> None:
    out = tmp_path / "shot.svg"
    assert board.main(["--screenshot", str(out), "--data-dir", str(tmp_path)]) == 0
    assert "airlock · effects per tick" in "\n".join(screen_lines(out.read_text()))
    assert "Textual" in board.SUMMARY
