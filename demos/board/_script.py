"""The scripted session behind ``--screenshot`` (also used by the demo's tests)."""

from __future__ import annotations

import asyncio

from ._app import BoardApp

__all__ = ["SCREEN_SIZE", "play_script", "scripted_screenshot"]

SCREEN_SIZE = (130, 36)


async def play_script(app: BoardApp, pilot: object) -> None:
    """Open the inspector, move a card by click, add one, move all, go offline, add one."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await pilot.press("f12")
    await pilot.click("#todo .card")
    await pilot.press("a", "m")
    await pilot.press("o", "a")
    await pilot.pause()
    for _ in range(100):  # the UDP datagrams arrive asynchronously; wait (bounded) for them
        if app.server.datagrams >= 3:
            break
        await asyncio.sleep(0.01)
    await app.airlock_drain(timeout=1)
    await pilot.pause()


async def scripted_screenshot(app: BoardApp) -> str:
    """Run the script headless and return the screen as SVG."""
    async with app.run_test(size=SCREEN_SIZE) as pilot:
        await play_script(app, pilot)
        return app.export_screenshot(title="airlock board")
