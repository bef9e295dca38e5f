"""AirlockApp as a class: the base-class order is checked when the class is created."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.reactive import reactive

import airlock
from airlock_textual import AirlockApp


def test_app_before_airlock_app_is_refused_when_the_class_is_created() -> None:
    with pytest.raises(TypeError) as info:

        class WrongOrder(App[None], AirlockApp):  # type: ignore[misc,metaclass]
            pass

    message = str(info.value)
    assert "put AirlockApp before App" in message
    assert "class WrongOrder(AirlockApp, App[None])" in message


def test_subclasses_and_intermediate_mixins_in_the_right_order_are_accepted() -> None:
    class Editor(AirlockApp):  # a mixin of the user's own, combined with App later
        AIRLOCK_INSPECTOR = True

    class EditorApp(Editor, App[None]):
        pass

    class SubApp(EditorApp):
        pass

    assert isinstance(SubApp(), App)


def test_an_airlock_app_that_is_no_textual_app_says_how_to_define_it() -> None:
    class NotAnApp(AirlockApp):
        pass

    with pytest.raises(TypeError, match=r"as `class NotAnApp\(AirlockApp, App\[None\]\)`"):
        NotAnApp()


class RightOrder(AirlockApp, App[None]):
    def on_mount(self) -> None:
        airlock.enqueue(self.exit, 0)


async def test_the_right_order_runs_effects() -> None:
    app = RightOrder()
    async with app.run_test() as pilot:
        await pilot.pause()
    assert app.return_code == 0


class CounterApp(AirlockApp, App[None]):
    """An App whose reactive watcher (``init=True``: called as the app starts) enqueues."""

    count = reactive(0)

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[int] = []

    def watch_count(self, value: int) -> None:
        airlock.enqueue(self.shown.append, value)

    def on_key(self) -> None:
        self.count += 1


async def test_an_apps_watcher_called_at_start_up_enqueues_to_the_apps_tick() -> None:
    """Textual calls the App's watchers once Mount is handled, outside any handler and before
    the App's loop: their effects join the app's tick (not an outer scope, no error)."""
    with airlock.scope() as outer:  # (the pytest plugin's test scope is one)
        app = CounterApp()
        async with app.run_test() as pilot:
            await pilot.press("a")
            await pilot.pause(0.1)
            assert app.shown == [0, 1] and outer.intents == []
    alone = CounterApp()
    async with alone.run_test() as pilot:
        await pilot.press("a")
        await pilot.pause(0.1)
    assert alone.shown == [0, 1]
