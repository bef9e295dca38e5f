"""The effect recorder (an airlock.Observer) and the inspector panel built on it."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Button, RichLog, Sparkline

import airlock
from airlock_textual import AirlockApp, EffectInspector, EffectRecorder, tick_summary


def noop(*args: Any) -> None:
    """An effect that does nothing."""


def blocked() -> None:
    """An effect the test policy refuses."""


def test_recorder_groups_outcomes_per_tick_with_provenance() -> None:
    recorder = EffectRecorder()
    tick = airlock.tick_scope(airlock.BlockTasks({"blocked"}), observers=[recorder])

    with tick:
        airlock.enqueue(noop, "own")
        airlock.enqueue(noop, "first", _key="k")
        airlock.enqueue(noop, "second", _key="k")
        airlock.enqueue(blocked)
        with airlock.scope() as inner:
            airlock.enqueue(noop, "nested")
    with tick:
        pass  # an empty tick is not recorded
    (record,) = recorder.ticks
    assert record.frame == 1
    assert [(r.outcome, r.text, r.provenance) for r in record.intents] == [
        ("coalesced", "noop('first')", "own"),
        ("dropped", "blocked()", "own"),
        ("released", "noop('own')", "own"),
        ("released", "noop('second')", "own"),
        ("released", "noop('nested')", "captured"),
    ]
    assert record.intents[-1].source == repr(inner)
    assert tick_summary(record) == "tick 1: 5 enqueued → 3 released, 1 dropped, 1 coalesced"


def test_recorder_records_discarded_ticks() -> None:
    recorder = EffectRecorder()
    tick = airlock.tick_scope(observers=[recorder])
    try:
        with tick:
            airlock.enqueue(noop, "lost")
            raise KeyError("frame failed")
    except KeyError:
        pass
    assert [r.outcome for r in recorder.ticks[0].intents] == ["discarded"]


class Saver(Button):
    def on_click(self) -> None:
        airlock.enqueue(noop, "widget save", _key="save")


class InspectedApp(AirlockApp, App[None]):
    AIRLOCK_INSPECTOR = True

    def compose(self) -> ComposeResult:
        yield Saver("save", id="save")

    def on_button_pressed(self) -> None:
        airlock.enqueue(noop, "app save", _key="save")
        airlock.enqueue(noop, "toast")


async def test_f12_toggles_the_inspector_which_shows_ticks_and_a_sparkline() -> None:
    app = InspectedApp()
    async with app.run_test() as pilot:
        assert not app.query(EffectInspector)
        await pilot.press("f12")
        await pilot.pause()
        panel = app.query_one(EffectInspector)
        assert panel.display
        await pilot.click("#save")
        await pilot.pause()
        log_text = "\n".join(line.text for line in panel.query_one(RichLog).lines)
        assert "3 enqueued → 2 released, 1 coalesced" in log_text
        assert "noop('widget save')" in log_text
        assert "captured ← InspectedApp.on_button_pressed" in log_text
        assert "captured ← Saver#save.on_click" in log_text
        assert list(panel.query_one(Sparkline).data or [])[-1] == 2.0
        await pilot.press("ctrl+backslash")
        await pilot.pause()
        assert not panel.display
    assert app.airlock_recorder is not None
    assert app.airlock_recorder.ticks[-1].released == 2
