"""AirlockApp as a class: the base-class order is checked when the class is created."""

from __future__ import annotations

import pytest
from textual.app import App

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
