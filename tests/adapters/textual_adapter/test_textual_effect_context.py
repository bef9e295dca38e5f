"""Effects run in the app's context: every Textual API that works in a handler works in an
effect, whether the effect was enqueued from a handler, from a thread worker (each of the
three ways) or during setup."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from textual import work
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Label, Markdown, Static

import airlock
from airlock_textual import AirlockApp


class Other(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Label("the other screen", id="other")


class EffectsApp(AirlockApp, App[None]):
    """Each key enqueues effects that use Textual APIs; 't' does it from a thread worker."""

    def __init__(self) -> None:
        super().__init__()
        self.fired: list[str] = []
        self.worked: list[str] = []
        self.errors: list[str] = []

    def compose(self) -> ComposeResult:
        yield Markdown("# before", id="doc")
        yield Static("old", id="old")

    # the effects: each calls what a handler may call
    def update_markdown(self, text: str) -> None:
        self.query_one("#doc", Markdown).update(text)

    def mount_label(self, text: str) -> None:
        self.mount(Label(text, classes="mounted"))

    def remove_old(self) -> None:
        self.query("#old").remove()

    def start_timer(self) -> None:
        self.set_timer(0.01, lambda: self.fired.append("timer"))

    def show_other(self) -> None:
        self.push_screen(Other())

    def toast(self) -> None:
        self.notify("saved")

    def start_worker(self) -> None:
        self.background()

    @work
    async def background(self) -> None:
        self.worked.append("worked")

    def enqueue_all(self, source: str, enqueue: Callable[..., Any] = airlock.enqueue) -> None:
        enqueue(self.update_markdown, f"# after, from {source}")
        enqueue(self.mount_label, f"mounted from {source}")
        enqueue(self.remove_old)
        enqueue(self.start_timer)
        enqueue(self.toast)
        enqueue(self.start_worker)
        enqueue(self.show_other)

    def on_key(self, event: Any) -> None:
        if event.key == "h":
            self.enqueue_all("a handler")
        elif event.key in THREAD_WAYS:
            self.from_thread(event.key)

    @work(thread=True)
    def from_thread(self, key: str) -> None:
        self.enqueue_all(THREAD_WAYS[key], self.thread_enqueue(key))

    def thread_enqueue(self, key: str) -> Callable[..., Any]:
        """The three ways a thread worker enqueues (see the guide's Threads section)."""
        if key == "t":
            return airlock.enqueue
        if key == "p":
            return self.enqueue_from_thread
        return functools.partial(self.call_from_thread, airlock.enqueue)


THREAD_WAYS = {"t": "a thread", "p": "enqueue_from_thread", "c": "call_from_thread"}


@pytest.mark.parametrize(("key", "source"), [("h", "a handler"), *THREAD_WAYS.items()])
async def test_textual_apis_work_inside_effects(key: str, source: str) -> None:
    app = EffectsApp()
    async with app.run_test() as pilot:
        await pilot.press(key)
        await app.workers.wait_for_complete()
        for _ in range(10):
            await pilot.pause(0.02)
        assert isinstance(app.screen, Other)  # push_screen
        assert app.screen.query_one("#other", Label)
        base = app.screen_stack[0]
        doc = base.query_one("#doc", Markdown)
        assert f"after, from {source}" in doc.source  # Markdown.update
        rendered = [str(block.render()) for block in doc.children]  # its blocks were made
        assert any(f"after, from {source}" in text for text in rendered), rendered
        assert [str(label.render()) for label in base.query(".mounted")] == [
            f"mounted from {source}"
        ]  # mount
        assert not base.query("#old")  # query().remove()
        assert app.fired == ["timer"]  # set_timer fired
        assert app.worked == ["worked"]  # an @work method
        assert [n.message for n in app._notifications] == ["saved"]  # notify
    assert app.return_code in (None, 0)  # shutdown was clean


class SetupApp(EffectsApp):
    def on_mount(self) -> None:
        self.enqueue_all("setup")


async def test_effects_enqueued_during_setup_run_in_the_apps_context() -> None:
    app = SetupApp()
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        for _ in range(10):
            await pilot.pause(0.02)
        assert isinstance(app.screen, Other)
        base = app.screen_stack[0]
        assert "after, from setup" in base.query_one("#doc", Markdown).source
        assert [str(label.render()) for label in base.query(".mounted")] == ["mounted from setup"]
        assert app.fired == ["timer"] and app.worked == ["worked"]
