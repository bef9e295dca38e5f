"""The scripted session behind ``--screenshot`` (also used by the demo's tests and docs).

``python -m demos.board._script`` rewrites the guide's two screenshots:
``docs/img/textual-inspector.svg`` (130 columns: the inspector docked on the right) and
``docs/img/textual-inspector-narrow.svg`` (80 columns: docked at the bottom).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
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
    """Open the inspector, move a card by click, add one, move all, go offline, add one.

    Each input waits until its tick has flushed before the next is sent: the pilot's own wait
    (``wait_for_idle``) takes a starved process for an idle one, and two inputs then shared a
    tick (one save for both), so the screenshot changed with the machine's load.
    """
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    status = app.query_one("#status")

    async def until(done: Callable[[], bool], what: str) -> None:
        for _ in range(1000):  # bounded: 10 s, for a very slow machine
            if done() and not app.airlock_tick.is_active:
                return
            await asyncio.sleep(0.01)
        raise TimeoutError(f"the scripted session never saw {what}")

    def saved(count: int) -> Callable[[], bool]:
        return lambda: app.store.saves == count

    await pilot.press("f12")
    await until(lambda: bool(app.query("EffectInspector")), "the inspector open")
    await pilot.click("#todo .card")
    await until(saved(1), "the click's save")
    await pilot.press("a")
    await until(saved(2), "the added card's save")
    await pilot.press("m")
    await until(saved(3), "the moved cards' save")
    await pilot.press("o")
    await until(lambda: "OFFLINE" in str(status.render()), "the status go offline")
    await pilot.press("a")
    await until(saved(4), "the second added card's save")
    # the UDP datagrams arrive asynchronously
    await until(lambda: app.server.datagrams >= 3, "the three datagrams")
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
