"""The board demo: a scripted session headless, checked through its SVG screenshot."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest
import textual.app
import textual.pilot

from demos import board
from demos.board._app import BoardApp, Card, plural
from demos.board._script import DOCS_SCREENSHOTS, SCREEN_SIZE, scripted_screenshot

from .conftest import screen_lines

#: the demos are run by hand (README) and in CI; the README's test command leaves them
pytestmark = pytest.mark.ci_only(
    "the Textual demo app, scripted end to end (pilot sessions, screenshots)")


def normalized(lines: list[str]) -> list[str]:
    """Lines with tick numbers hidden: they depend on how many idle events Textual sent."""
    return [re.sub(r"tick \d+", "tick N", line).rstrip() for line in lines]


Session = tuple[BoardApp, str, Path]


@pytest.fixture(scope="module")
def sessions() -> dict[tuple[int, int], Session]:
    """Scripted sessions by terminal size, run once per module: the session's checks and the
    committed screenshot of the same size read the same run (each runs it when alone)."""
    return {}


async def scripted_session(sessions: dict[tuple[int, int], Session], size: tuple[int, int],
                           tmp_path: Path) -> Session:
    """(app, SVG screenshot, data directory) of the scripted session in a terminal of ``size``,
    on a fresh board in ``tmp_path`` unless this module already ran it."""
    if size not in sessions:
        app = BoardApp(tmp_path)
        sessions[size] = (app, await scripted_screenshot(app, size), tmp_path)
    return sessions[size]


async def test_scripted_session_shows_board_status_and_inspector(
    tmp_path: Path, sessions: dict[tuple[int, int], Session],
) -> None:
    app, svg, data_dir = await scripted_session(sessions, SCREEN_SIZE, tmp_path)
    lines = screen_lines(svg)
    text = "\n".join(lines)
    assert "airlock · effects per tick" in text
    assert "4 saves · server got 5 events in 3 datagrams · OFFLINE" in text
    assert re.search(r"tick \d+: 4 enqueued → 3 released, 1 dropped", text)
    assert re.search(r"✗ \S*send\(\{'op': 'add', 'card': 'New card 2'\}\)", text)  # offline
    assert "captured ← BoardApp.on_card_moved" in text
    assert "Move card (or click it)" in text  # the footer, for the focused card
    saved = json.loads((data_dir / "board.json").read_text())
    assert saved == {
        "todo": ["New card 2"],
        "doing": ["Write spec", "Fix tick bug", "Ship demo", "New card 1"],
        "done": [],
    }
    assert app.store.saves == 4  # one per tick that changed the board (not the `o` tick)
    assert app.server.datagrams == 3  # one datagram per tick that sent events (batched)


async def test_a_starved_handler_does_not_split_a_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rule: the board's ticks end when the app goes idle, never on the clock. A handler that
    gets no CPU for longer than AirlockApp's default max_tick_ms (500 ms) once split the
    scripted "move all" tick, and the session saved five times instead of four."""
    moved = BoardApp.on_card_moved

    def starved(app: BoardApp, message: Card.Moved) -> None:
        if message.card.title == "Ship demo":  # the first card that "move all" moves
            time.sleep(0.6)
        moved(app, message)

    monkeypatch.setattr(BoardApp, "on_card_moved", starved)
    app = BoardApp(tmp_path)
    await scripted_screenshot(app)
    assert (app.store.saves, app.server.datagrams, app.server.events) == (4, 3, 5)


async def test_inputs_do_not_share_a_tick_when_the_pilot_misjudges_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rule: the script sends an input only once the last one's tick has flushed. The pilot's
    own wait compares CPU time with wall time: on a starved machine it returns at once, and
    two keys shared a tick (one save for both: three saves, two datagrams)."""

    async def looks_idle(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(textual.app, "wait_for_idle", looks_idle)
    monkeypatch.setattr(textual.pilot, "wait_for_idle", looks_idle)
    app = BoardApp(tmp_path)
    await scripted_screenshot(app)
    assert (app.store.saves, app.server.datagrams, app.server.events) == (4, 3, 5)


@pytest.mark.parametrize("path", list(DOCS_SCREENSHOTS), ids=lambda path: path.name)
async def test_the_committed_screenshots_match_the_demo(
    tmp_path: Path, path: Path, sessions: dict[tuple[int, int], Session],
) -> None:
    _, svg, _ = await scripted_session(sessions, DOCS_SCREENSHOTS[path], tmp_path)
    fresh = normalized(screen_lines(svg))
    committed = normalized(screen_lines(path.read_text(encoding="utf-8")))
    assert fresh == committed, "regenerate: python -m demos.board._script"


def test_main_writes_the_screenshot_and_the_demo_is_listed(tmp_path: Path) -> None:
    out = tmp_path / "shots" / "shot.svg"  # its directory is made, as the asteroids demo does
    assert board.main(["--screenshot", str(out), "--data-dir", str(tmp_path)]) == 0
    assert "airlock · effects per tick" in "\n".join(screen_lines(out.read_text()))
    assert "Textual" in board.SUMMARY


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 events"), (1, "1 event"), (2, "2 events"), (11, "11 events")]
)
def test_plural(count: int, text: str) -> None:
    assert plural(count, "event") == text


def status_text(app: BoardApp) -> str:
    return str(app.query_one("#status").render())


async def test_going_offline_saves_nothing_and_counts_read_right(tmp_path: Path) -> None:
    app = BoardApp(tmp_path)
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await pilot.pause()
        assert status_text(app) == "0 saves · server got 0 events in 0 datagrams · online"
        await pilot.press("a")
        for _ in range(1000):  # the datagram arrives asynchronously (bounded wait)
            if app.server.datagrams:
                break
            await pilot.pause(0.01)
        await pilot.pause()
        assert status_text(app) == "1 save · server got 1 event in 1 datagram · online"
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert app.store.saves == 1  # switching the policy changed no card
        assert status_text(app) == "1 save · server got 1 event in 1 datagram · online"


async def test_enter_or_a_click_moves_a_card_and_the_footer_says_so(tmp_path: Path) -> None:
    app = BoardApp(tmp_path)
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await pilot.pause()
        focused = app.focused
        assert isinstance(focused, Card) and focused.title == "Write spec"
        for _ in range(100):  # the footer follows the focus on a later refresh (bounded)
            footer = "\n".join(screen_lines(app.export_screenshot()))
            if "Move card (or click it)" in footer:
                break
            await pilot.pause(0.01)
        assert "Move card (or click it)" in footer
        await pilot.press("enter")
        await pilot.pause()
        assert app.board["doing"] == ["Write spec"]
        await pilot.press("enter")  # the moved card keeps the focus: Enter moves it on
        await pilot.pause()
        assert app.board["done"] == ["Write spec"]
        await pilot.click("#todo .card")
        await pilot.pause()
        assert app.board["doing"] == ["Fix tick bug"]
    assert app.store.saves == 3
