"""The scripted session behind ``--screenshot`` (also used by the demo's tests and docs).

``python -m demos.board._script`` rewrites the guide's two screenshots:
``docs/img/textual-inspector.svg`` (130 columns: the inspector docked on the right) and
``docs/img/textual-inspector-narrow.svg`` (80 columns: docked at the bottom).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from ._app import BoardApp

__all__ = ["DOCS_SCREENSHOTS", "SCREEN_SIZE", "play_script", "scripted_screenshot"]

SCREEN_SIZE = (130, 36)
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
#: the guide's screenshots and the terminal size of each
DOCS_SCREENSHOTS = {
    DOCS_IMG / "textual-inspector.svg": SCREEN_SIZE,
    DOCS_IMG / "textual-inspector-narrow.svg": (80, 36),
}


async def play_script(app: BoardApp, pilot: object) -> None:
    """Open the inspector, move a card by click, add one, move all, go offline, add one."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await pilot.press("f12")
    await pilot.click("#todo .card")
    await pilot.press("a", "m")
    await pilot.press("o", "a")
    await pilot.pause()
    for _ in range(1000):  # the UDP datagrams arrive asynchronously; wait (bounded) for them
        if app.server.datagrams >= 3:
            break
        await asyncio.sleep(0.01)
    await app.airlock_drain(timeout=10)
    await pilot.pause()


async def scripted_screenshot(app: BoardApp, size: tuple[int, int] = SCREEN_SIZE) -> str:
    """Run the script headless in a terminal of ``size`` and return the screen as SVG."""
    async with app.run_test(size=size) as pilot:
        await play_script(app, pilot)
        return app.export_screenshot(title="airlock board")


def write_docs_screenshots() -> None:
    """Rewrite ``DOCS_SCREENSHOTS``, each from a fresh board."""
    for path, size in DOCS_SCREENSHOTS.items():
        with tempfile.TemporaryDirectory(prefix="airlock-board-") as tmp:
            svg = asyncio.run(scripted_screenshot(BoardApp(Path(tmp)), size))
        path.write_text(svg, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    write_docs_screenshots()
