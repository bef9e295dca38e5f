"""The tick driver around each handler (``_driver.py``): what ``begin``/``end`` leave behind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.events import Click
from textual.message import Message
from textual.widgets import Button

import airlock
from airlock_textual import AirlockApp, HandlerScope

ran: list[str] = []


class DriverApp(AirlockApp, App[None]):
    AIRLOCK_MAX_TICK_MS = None

    def compose(self) -> ComposeResult:
        yield Button("go", id="go")


def _refuse_to_open(scope: HandlerScope) -> HandlerScope:
    raise RuntimeError("cannot open")


@pytest.mark.parametrize("set_target", [True, False])
async def test_a_handler_scope_that_fails_to_open_leaves_no_trace(
    monkeypatch: pytest.MonkeyPatch, set_target: bool
) -> None:
    """No handler counted as running, the caller's airlock target as it was; the next
    handler runs as usual."""
    app = DriverApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        driver = app._airlock_driver
        button = app.query_one(Button)
        before = airlock.get_current_scope()
        with monkeypatch.context() as patch:
            patch.setattr(HandlerScope, "__enter__", _refuse_to_open)
            with pytest.raises(RuntimeError, match="cannot open"):
                driver.begin(button, Click(button, 0, 0, 0, 0, 1, False, False, False), set_target)
        assert driver.busy == 0
        assert airlock.get_current_scope() is before
        handle = driver.begin(button, Click(button, 0, 0, 0, 0, 1, False, False, False))
        assert driver.busy == 1 and airlock.get_current_scope() is handle[0]  # type: ignore[index]
        driver.end(handle, None)
        assert driver.busy == 0
        assert airlock.get_current_scope() is before
        await pilot.pause()
        assert not app.airlock_tick.is_active  # the tick the failed handler opened still ended


def _record(label: str) -> None:
    ran.append(label)


async def test_a_handler_that_ends_after_shutdown_has_its_effects_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its scope has no tick left to hand them to: dropped, counted as every late effect."""
    ran.clear()
    app = DriverApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        driver = app._airlock_driver
        button = app.query_one(Button)
        handle: Any = driver.begin(button, Click(button, 0, 0, 0, 0, 1, False, False, False))
        airlock.enqueue(_record, "late handler")
        driver.close()  # the app shuts down while the handler still runs
        driver.end(handle, None)
    assert ran == []
    assert app.airlock_dropped_after_shutdown == 1
    assert handle[0].is_discarded
    assert "dropped the effect _record enqueued after shutdown" in caplog.text


class Go(Message):
    pass


class AwaitingApp(AirlockApp, App[None]):
    """A handler that enqueues, then awaits long enough to be cancelled."""

    def on_mount(self) -> None:
        self.post_message(Go())

    async def on_go(self, message: Go) -> None:
        airlock.enqueue(_record, "draft")
        self.awaiting.set()
        await asyncio.sleep(30)
        airlock.enqueue(_record, "final")  # pragma: no cover - cancelled first

    def __init__(self) -> None:
        super().__init__()
        self.awaiting = asyncio.Event()


async def test_a_handler_cancelled_at_shutdown_has_its_effects_dropped_counted_and_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The app's task is cancelled (a TaskGroup, ``wait_for``, Ctrl+C under
    ``asyncio.run``) while a handler awaits: Textual swallows the handler's
    ``CancelledError``, and the effects it enqueued are dropped, counted and named in a
    warning, not lost in silence."""
    ran.clear()
    app = AwaitingApp()
    running = asyncio.create_task(app.run_async(headless=True))
    await asyncio.wait_for(app.awaiting.wait(), 10)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert ran == []
    assert app.airlock_dropped_after_shutdown == 1
    assert "AwaitingApp.on_go> was cancelled before it returned" in caplog.text
    assert "dropped its 1 effect(s) (_record)" in caplog.text


async def test_only_the_pumps_of_an_airlock_app_carry_the_adapters_hooks() -> None:
    """A plain App's pumps keep Textual's own methods: they pay nothing per message."""

    class Plain(App[None]):
        def compose(self) -> ComposeResult:
            yield Button("go", id="go")

    airlock_app, plain = DriverApp(), Plain()
    async with airlock_app.run_test() as pilot, plain.run_test() as plain_pilot:
        await pilot.pause()
        await plain_pilot.pause()
        for hooked in (airlock_app, airlock_app.screen, airlock_app.query_one(Button)):
            assert "_dispatch_message" in vars(hooked)
        for pump in (plain, plain.screen, plain.query_one(Button)):
            assert "_dispatch_message" not in vars(pump)
            assert "_process_messages_loop" not in vars(pump)
            method = type(pump)._dispatch_message
            assert not hasattr(method, "__airlock_original__")  # Textual's, not a wrapper


class ScopeSpy(DriverApp):
    def __init__(self) -> None:
        super().__init__()
        self.handler_scopes: list[Any] = []

    def on_button_pressed(self) -> None:
        self.handler_scopes.append(airlock.get_current_scope())


class InspectedSpy(ScopeSpy):
    AIRLOCK_INSPECTOR = True


async def test_a_default_app_keeps_the_cores_fast_paths() -> None:
    """No observer on the tick (failures are shown by the executor), and handler scopes built
    with every default: they hand plain records to the tick. An inspector (an observer) gets
    handler scopes that tell it each enqueue, and still filter nothing."""
    from airlock.integrations.executors.sync import sync_executor

    for cls, watched in ((ScopeSpy, False), (InspectedSpy, True)):
        app = cls()
        assert bool(app.airlock_tick.observers) is watched
        async with app.run_test() as pilot:
            await pilot.click("#go")
            await pilot.pause()
        (scope,) = app.handler_scopes
        assert isinstance(scope, HandlerScope)
        assert scope.label == f"{cls.__name__}.on_button_pressed"
        assert scope.executor is sync_executor  # it never dispatches: the tick does
        assert type(scope.policy) is airlock.AllowAll
        assert bool(scope.observers) is watched


async def test_configured_scope_kwargs_do_not_reach_handler_scopes() -> None:
    """``configure(scope_kwargs=...)`` is for the program's own ``airlock.scope()`` calls: a
    handler's scope is built without them (the driver then takes the constructor path, not
    ``airlock.scope(_cls=HandlerScope)``)."""
    airlock.configure(scope_kwargs={"errors": "continue"})
    app = ScopeSpy()
    async with app.run_test() as pilot:
        await pilot.click("#go")
        await pilot.pause()
    (scope,) = app.handler_scopes
    assert isinstance(scope, HandlerScope) and scope.errors == "raise"
    assert scope.label == "ScopeSpy.on_button_pressed" and scope.tick is app.airlock_tick
