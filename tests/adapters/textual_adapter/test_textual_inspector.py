"""The effect recorder (an airlock.Observer) and the inspector panel built on it."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Button, Footer, Header, RichLog, Sparkline, Static

import airlock
from airlock_textual import AirlockApp, EffectInspector, EffectRecorder, tick_summary
from airlock_textual._inspector import TITLE, WIDE_COLUMNS, _wrap_counts

from .conftest import screen_lines


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


def test_posts_that_arrive_while_a_tick_is_open_count_once_in_the_tick_that_runs_them() -> None:
    """A post never joins the open tick: the next one takes it (and its ``stats`` count it).
    The recorder counted it in the open tick too, then again in the next (3 posts showed as
    3 + 2 + 1 under a budget of 2)."""
    recorder = EffectRecorder()
    tick = airlock.tick_scope(observers=[recorder], max_per_frame=2)
    with tick:
        for n in range(3):
            tick.post(noop, n)  # (as enqueue_from_thread does, from a worker thread)
    for _ in range(2):
        with tick:
            pass
    # the open tick did nothing (not recorded); the next two take the posts, two, then one
    assert [(r.frame, r.enqueued, r.released) for r in recorder.ticks] == [(2, 2, 2), (3, 1, 1)]


def test_what_a_handlers_scope_settles_itself_counts_in_the_tick() -> None:
    """A handler's scope that coalesces (or discards, as its handler raises) settles those
    intents before the tick sees them: the tick's count includes them, once."""
    recorder = EffectRecorder()
    tick = airlock.tick_scope(observers=[recorder])
    with tick:
        with airlock.scope(observers=[recorder]):
            airlock.enqueue(noop, "first", _key="k")
            airlock.enqueue(noop, "second", _key="k")
        with pytest.raises(KeyError), airlock.scope(observers=[recorder]):
            airlock.enqueue(noop, "lost")
            raise KeyError("the handler raised")
    (record,) = recorder.ticks
    assert tick_summary(record) == "tick 1: 3 enqueued → 1 released, 1 coalesced, 1 discarded"


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


def test_a_long_summary_wraps_after_a_comma_never_inside_a_count() -> None:
    summary = "tick 23: 4 enqueued → 3 released, 1 dropped, 2 coalesced"
    assert _wrap_counts(summary, 80) == [summary]
    head = "tick 23: 4 enqueued → 3 released,"
    assert _wrap_counts(summary, 40) == [head, "  1 dropped, 2 coalesced"]
    assert _wrap_counts(summary, 20) == [head, "  1 dropped,", "  2 coalesced"]  # head: cut


class WideEffectsApp(AirlockApp, App[None]):
    """A header, a footer, content, and effects whose texts are longer than any panel."""

    TITLE = "wide effects app"
    AIRLOCK_INSPECTOR = True
    BINDINGS = [("x", "effects", "Effects")]  # noqa: RUF012 (Textual's convention)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("content " * 40, id="content")
        yield Footer()

    def action_effects(self) -> None:
        for n in range(3):  # texts longer than the widest panel
            airlock.enqueue(noop, {"payload": "x" * 150, "n": n}, _name=f"effect{n}_" + "y" * 120)
        airlock.enqueue(noop, "first", _key="k")
        airlock.enqueue(noop, "second", _key="k")


def overlaps(a: Region, b: Region) -> bool:
    return a.overlaps(b) and a.area > 0 and b.area > 0


async def check_fits(app: WideEffectsApp, width: int) -> None:
    screen = app.screen
    panel = app.query_one(EffectInspector)
    log = panel.query_one(RichLog)
    assert panel.region.right <= width
    assert panel.region.bottom <= screen.size.height
    for docked in (app.query_one(Header), app.query_one(Footer)):
        assert not overlaps(panel.region, docked.region), f"{width}: covers {docked}"
    title = panel.query_one(".inspector--title", Static)
    assert title.region.width >= len(TITLE), f"{width}: title cut to {title.region.width}"
    text_width = log.scrollable_content_region.width
    lines = [line.text for line in log.lines]
    assert lines, "the recorded ticks are shown"
    assert max(cell_len(line.rstrip()) for line in lines) <= text_width
    assert log.max_scroll_x == 0  # nothing to scroll sideways
    assert any(line.endswith("…") for line in lines)  # the long effects were cut, not wrapped
    summary = "\n".join(lines)
    assert "5 enqueued → 4 released, 1 coalesced" in summary.replace("\n  ", " ")
    content = app.query_one("#content")
    if width >= WIDE_COLUMNS:  # docked right: the content keeps the rest of the width
        assert panel.region.right == width
        assert content.region.width + panel.outer_size.width == width
        assert content.region.width >= width // 2
    else:  # docked at the bottom, above the footer: the content keeps the whole width
        assert panel.region.x == 0 and panel.region.width == width
        assert panel.region.bottom == app.query_one(Footer).region.y
        assert content.region.width == width


@pytest.mark.parametrize("width", [
    80, *(pytest.param(w, marks=pytest.mark.ci_only("the inspector at more terminal widths"))
          for w in (100, 120, 160)),
])
async def test_the_inspector_fits_the_terminal(width: int) -> None:
    app = WideEffectsApp()
    async with app.run_test(size=(width, 30)) as pilot:
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("f12")
        await pilot.pause()
        await pilot.pause()
        await check_fits(app, width)
        shot = "\n".join(screen_lines(app.export_screenshot()))
    assert "wide effects app" in shot  # the header's title is not covered
    assert TITLE in shot


@pytest.mark.ci_only("the inspector re-laid out as the terminal is resized")
async def test_the_inspector_follows_a_resize_of_the_terminal() -> None:
    app = WideEffectsApp()
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.press("x", "f12")
        await pilot.pause()
        await check_fits(app, 160)
        for width in (120, 80, 100):
            await pilot.resize_terminal(width, 30)
            await pilot.pause()
            await pilot.pause()
            await check_fits(app, width)
        await pilot.press("x")  # a tick recorded after the resizes is clipped too
        await pilot.pause()
        await check_fits(app, 100)


def test_the_backlog_a_tick_leaves_is_recorded_and_shown() -> None:
    recorder = EffectRecorder()
    tick = airlock.tick_scope(observers=[recorder], max_per_frame=2)
    for n in range(5):
        tick.post(noop, n)
    with tick:
        pass
    (record,) = recorder.ticks
    assert record.pending == 3 == tick.pending
    # the frame took two of the five posts (max_per_frame); three wait in its backlog
    enqueued = tick.stats.enqueued
    assert tick_summary(record) == f"tick 1: {enqueued} enqueued → 2 released · 3 waiting"


class ChainApp(AirlockApp, App[None]):
    """'x' starts a chain: each effect enqueues the next, which waits for the next tick."""

    AIRLOCK_INSPECTOR = True

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("chain", id="content")
        yield Footer()

    def step(self, n: int) -> None:
        if n:
            airlock.enqueue(self.step, n - 1)
            airlock.enqueue(noop, n)

    def on_key(self, event: Any) -> None:
        if event.key == "x":
            airlock.enqueue(self.step, 2)


async def test_the_inspector_of_a_running_app_shows_the_backlog_each_tick_left() -> None:
    app = ChainApp()
    async with app.run_test(size=(130, 30)) as pilot:
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("f12")
        await pilot.pause()
        await pilot.pause()
        lines = screen_lines(app.export_screenshot())
    summaries = [line.split("│")[-1].strip() for line in lines if ": " in line]
    # each step ran in the tick after the one that enqueued it, counted there once
    assert summaries == [
        "tick 2: 1 enqueued → 1 released · 2 waiting",
        "tick 3: 2 enqueued → 2 released · 2 waiting",
        "tick 4: 2 enqueued → 2 released",
    ]


class HeldAtExit(AirlockApp, App[None]):
    AIRLOCK_INSPECTOR = True
    AIRLOCK_EXIT_GRACE = 0

    def on_key(self, event: Any) -> None:
        airlock.enqueue(look_up_later, event.key)


@airlock.debounce(5)
def look_up_later(word: str) -> None:
    pass


async def test_what_the_close_discards_is_recorded_in_the_last_tick() -> None:
    """Review: a debounced lookup still held at exit was discarded by the tick's close, its
    observers told, but the recorder kept it out of every record."""
    app = HeldAtExit()
    async with app.run_test() as pilot:
        await pilot.press("a")
        await pilot.pause()
    recorder = app.airlock_recorder
    assert recorder is not None and app.airlock_tick.stats.discarded == 1
    last = recorder.ticks[-1]
    assert [(intent.outcome, intent.text) for intent in last.intents] == [
        ("discarded", "look_up_later('a')")]
    assert not recorder._pending


def test_what_the_close_discards_joins_the_last_frames_record() -> None:
    recorder = EffectRecorder()
    tick = airlock.tick_scope(observers=[recorder])
    with tick:
        airlock.enqueue(look_up_later, "held")
    tick.post(noop, "posted")  # the last frame runs it: that frame has a record
    tick.close()
    recorder.tick_closed(tick)  # (the app's driver calls it as the tick closes)
    last = recorder.ticks[-1]
    assert [(i.outcome, i.text) for i in last.intents] == [
        ("released", "noop('posted')"), ("discarded", "look_up_later('held')")]
    assert last.pending == 0 and len(recorder.ticks) == 2
