"""The README's Textual example, verbatim, so that it cannot rot."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Button

import airlock
from airlock_textual import AirlockApp

saved: list[str] = []


def save(name: str) -> None:
    saved.append(name)


# --- README example starts (15 lines) ---------------------------------------------------------
class Editor(AirlockApp, App[None]):
    AIRLOCK_INSPECTOR = True  # F12 shows the effects of each tick

    def compose(self) -> ComposeResult:
        yield Button("Save", id="save")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        airlock.enqueue(save, "draft", _key="save")  # runs once per tick, after the handlers
        airlock.enqueue(self.notify, "saved!")

    async def on_key(self) -> None:
        airlock.enqueue(save, "autosave", _key="save")  # same key: the later one wins


# --- README example ends ----------------------------------------------------------------------


async def test_readme_example() -> None:
    saved.clear()
    app = Editor()
    async with app.run_test() as pilot:
        await pilot.click("#save")
        await pilot.pause()
        assert saved == ["draft"]
        await pilot.press("x")
        await pilot.pause()
        assert saved == ["draft", "autosave"]
