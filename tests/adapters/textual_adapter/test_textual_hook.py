"""Loud checks of the private Textual hooks the adapter wraps (adapters/airlock_textual/_hook.py).

If one of these fails after a Textual upgrade, the adapter's assumptions broke: read
``_hook.py``'s docstring and adapt it to the new release (or pin textual<9).
"""

from __future__ import annotations

import inspect

import pytest
from textual.app import App, ComposeResult
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button

import airlock
from airlock_textual import TextualHookError, check_hooks, install_hooks
from airlock_textual._hook import HOOKS


def test_textual_still_has_the_private_methods_the_adapter_wraps() -> None:
    originals = check_hooks()
    assert set(originals) == {"_dispatch_message", "_process_messages_loop"}
    for name, method in originals.items():
        assert inspect.iscoroutinefunction(method)
        assert list(inspect.signature(method).parameters) == HOOKS[name]


def test_no_pump_class_overrides_the_hooks_so_a_class_wide_wrap_reaches_all() -> None:
    install_hooks()
    for cls in (App, Screen, Widget, Button):
        for name in HOOKS:
            owner = next(c for c in cls.__mro__ if name in c.__dict__)
            assert owner is MessagePump, f"{cls.__name__} overrides {name}: wrap it too"
        assert hasattr(cls._dispatch_message, "__airlock_original__")


def test_the_pump_loop_still_calls_the_hooks() -> None:
    loop_source = inspect.getsource(check_hooks()["_process_messages_loop"])
    assert "self._dispatch_message(" in loop_source
    assert "_flush_next_callbacks()" in loop_source  # run between messages: inside the loop
    pre_source = inspect.getsource(MessagePump._pre_process)
    assert "self._dispatch_message(" in pre_source  # Compose and Mount go through it too


def test_check_hooks_fails_loudly_when_a_hook_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    def _dispatch_message(self: MessagePump, message: object, extra: int) -> None:
        """A sync method with a new parameter: not what the adapter wraps."""

    monkeypatch.setattr(MessagePump, "_dispatch_message", _dispatch_message)
    with pytest.raises(TextualHookError, match="_dispatch_message is missing or no longer"):
        check_hooks()


def test_check_hooks_names_a_changed_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    async def _process_messages_loop(self: MessagePump, budget: int) -> None:
        """A new parameter."""

    monkeypatch.setattr(MessagePump, "_process_messages_loop", _process_messages_loop)
    with pytest.raises(TextualHookError, match=r"now takes \['self', 'budget'\]"):
        check_hooks()


class PlainApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[BaseException] = []

    def compose(self) -> ComposeResult:
        yield Button("x", id="x")

    def on_button_pressed(self) -> None:
        try:
            airlock.enqueue(print, "never")
        except airlock.NoScopeError as error:
            self.errors.append(error)


async def test_apps_that_are_not_airlock_apps_are_untouched() -> None:
    install_hooks()  # as any AirlockApp() does
    app = PlainApp()
    async with app.run_test() as pilot:
        await pilot.click("#x")
        await pilot.pause()
    assert len(app.errors) == 1
