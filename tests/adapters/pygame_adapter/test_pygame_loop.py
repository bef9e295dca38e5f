"""The frame loop: event -> update -> draw -> flush (present first), failures discard a frame."""

from __future__ import annotations

from typing import Literal

import pygame
import pytest

import airlock
from airlock_pygame import GameLoop, LoopbackReceiver, Mute, NetSender, Redraw, SoundPlayer, tone


def key(kind: int, code: int) -> None:
    pygame.event.post(pygame.event.Event(kind, key=code, mod=0, unicode="", scancode=0))


class Recorder:
    """A tiny game whose every step leaves a trace, and whose effects leave one when they run."""

    def __init__(self, redraw: Redraw) -> None:
        self.log: list[str] = []
        self.redraw = redraw
        self.fail_next = False

    def on_event(self, event: pygame.event.Event) -> None:
        keyed = event.type in (pygame.KEYDOWN, pygame.KEYUP)
        name = pygame.key.name(event.key) if keyed else pygame.event.event_name(event.type)
        self.log.append(f"event {name}")
        airlock.enqueue(self.log.append, "effect of event")

    def update(self, dt: float) -> None:
        self.log.append(f"update {dt}")
        airlock.enqueue(self.sound_effect, _dispatch_options={"phase": "sound"})
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("boom in update")

    def sound_effect(self) -> None:
        self.log.append(f"sound after {self.redraw.presents} present(s)")

    def draw(self, surface: pygame.Surface) -> None:
        surface.fill((0, 0, 0))
        self.log.append("draw")


@pytest.fixture
def game(screen: pygame.Surface) -> tuple[GameLoop, Recorder]:
    redraw = Redraw()
    rec = Recorder(redraw)
    loop = GameLoop(screen, update=rec.update, draw=rec.draw, on_event=rec.on_event, fps=None,
                    dt=0.25, redraw=redraw)
    return loop, rec


def test_frame_order_events_update_draw_then_present_then_other_effects(
    game: tuple[GameLoop, Recorder],
) -> None:
    loop, rec = game
    key(pygame.KEYDOWN, pygame.K_a)
    assert loop.run(frames=1) == 1
    assert rec.log == ["event a", "update 0.25", "draw", "sound after 1 present(s)",
                       "effect of event"]
    assert loop.redraw.last is None  # present="flip": the frame was one flip


def test_without_a_clock_each_frame_is_exactly_one_fixed_update(
    game: tuple[GameLoop, Recorder],
) -> None:
    loop, rec = game
    loop.run(frames=5)
    assert [e for e in rec.log if e.startswith("update")] == ["update 0.25"] * 5
    assert loop.tick.frame == 5 and [r.frame for r in loop.history] == [0, 1, 2, 3, 4]
    assert loop.history[-1].dispatched == 2  # the present and the sound effect


def test_without_a_clock_fixed_steps_sets_the_updates_per_frame(screen: pygame.Surface) -> None:
    steps: list[float] = []
    loop = GameLoop(screen, update=steps.append, fps=None, dt=0.01, fixed_steps=3)
    loop.run(frames=4)
    assert steps == [0.01] * 12


def test_with_a_clock_real_time_is_consumed_in_fixed_steps(screen: pygame.Surface) -> None:
    steps: list[float] = []
    loop = GameLoop(screen, update=steps.append, fps=30, dt=1 / 120, max_updates=5)
    loop.run(frames=3)
    # frame 0 runs one step; frames 1 and 2 each consume ~33 ms = ~4 steps of 8.3 ms
    assert 1 + 2 * 3 <= len(steps) <= 1 + 2 * 5
    assert set(steps) == {1 / 120}


def test_quit_event_stops_the_loop(game: tuple[GameLoop, Recorder]) -> None:
    loop, _ = game
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert loop.run(frames=10) == 1
    assert not loop.running


def events_seen(rec: Recorder) -> list[str]:
    return [e for e in rec.log if e.startswith("event")]


def test_overlay_key_is_consumed_by_the_overlay(screen: pygame.Surface) -> None:
    rec = Recorder(Redraw())
    loop = GameLoop(screen, on_event=rec.on_event, fps=None, overlay=True)
    key(pygame.KEYDOWN, pygame.K_F3)
    loop.run(frames=1)
    assert not loop.overlay.visible  # F3 switched it off
    assert not events_seen(rec)


def test_with_the_overlay_off_the_loop_takes_no_keys(game: tuple[GameLoop, Recorder]) -> None:
    loop, rec = game  # overlay=False, the default
    key(pygame.KEYDOWN, pygame.K_F3)
    loop.run(frames=1)
    assert not loop.overlay.visible
    assert events_seen(rec) == ["event f3"]


@pytest.mark.parametrize(("overlay", "overlay_key", "taken"), [
    (True, pygame.K_F1, pygame.K_F1),    # another key
    (True, None, None),                  # shown, and no key hides it
    (False, pygame.K_F3, pygame.K_F3),   # hidden until the key is pressed
])
def test_the_overlay_key_is_configurable(
    screen: pygame.Surface, overlay: bool, overlay_key: int | None, taken: int | None,
) -> None:
    rec = Recorder(Redraw())
    loop = GameLoop(screen, on_event=rec.on_event, fps=None, overlay=overlay,
                    overlay_key=overlay_key)
    for code in (pygame.K_F1, pygame.K_F3):
        key(pygame.KEYDOWN, code)
    loop.run(frames=1)
    passed = {pygame.K_F1, pygame.K_F3} - {taken}
    assert events_seen(rec) == [f"event {pygame.key.name(c)}" for c in sorted(passed)]
    assert loop.overlay.visible is (overlay != (taken is not None))


def test_an_overlay_given_keeps_its_own_key_unless_overlay_key_is_given(
    screen: pygame.Surface,
) -> None:
    from airlock_pygame import FrameHistory, Overlay

    history = FrameHistory()
    own = GameLoop(screen, fps=None, history=history,
                   overlay=Overlay(history, key=pygame.K_F2))
    assert own.overlay.key == pygame.K_F2
    replaced = GameLoop(screen, fps=None, history=history, overlay_key=None,
                        overlay=Overlay(history, key=pygame.K_F2))
    assert replaced.overlay.key is None


def test_each_frame_records_the_backlog_left_for_the_next_frame(screen: pygame.Surface) -> None:
    ran: list[int] = []
    loop = GameLoop(screen, fps=None, max_per_frame=3)

    def update(dt: float) -> None:
        for n in range(2):
            airlock.enqueue(ran.append, n)  # 2 effects + the present: 3, the budget
        loop.tick.post(ran.append, 9)       # for the next frame

    loop.update = update
    seen: list[tuple[int, int]] = []
    loop.run(frames=4, after_frame=lambda r: seen.append((r.pending, loop.tick.pending)))
    # every frame leaves its post, and takes one post more than the budget holds: the backlog
    # grows by one a frame (carried), and the record says so
    assert [mine for mine, _ in seen] == [tick for _, tick in seen] == [1, 2, 3, 4]
    assert [r.carried for r in loop.history] == [0, 1, 2, 3]
    loop.update = None
    loop.run(frames=4)
    assert [r.pending for r in loop.history][-1] == 0  # drained once the posts stop


def test_an_exception_in_update_discards_the_frames_effects_and_is_reported(
    game: tuple[GameLoop, Recorder], caplog: pytest.LogCaptureFixture,
) -> None:
    loop, rec = game
    rec.fail_next = True
    key(pygame.KEYDOWN, pygame.K_b)
    presents = loop.redraw.presents
    assert loop.run(frames=2) == 2
    first, second = loop.history
    assert first.error == "RuntimeError('boom in update')"
    # the one ledger: the record says what the tick's stats said of that frame
    assert (first.enqueued, first.dispatched, first.discarded) == (2, 0, 2)
    assert first.balance_error() is None
    assert second.error is None and second.dispatched == 2
    assert [(frame, str(exc)) for frame, exc in loop.errors] == [(0, "boom in update")]
    # frame 0: the event's effect and the sound were enqueued before the raise: discarded,
    # nothing drawn or presented. Frame 1 runs normally.
    assert rec.log == ["event b", "update 0.25", "update 0.25", "draw",
                       "sound after 1 present(s)"]
    assert loop.redraw.presents == presents + 1
    assert "frame 0 failed (RuntimeError('boom in update')): 0 effect(s) dispatched, 2 " \
        "discarded" in caplog.text


def test_on_error_raise_propagates_after_recording(screen: pygame.Surface) -> None:
    def update(dt: float) -> None:
        raise KeyError("missing sprite")

    loop = GameLoop(screen, update=update, fps=None, on_error="raise")
    with pytest.raises(KeyError):
        loop.run(frames=3)
    assert len(loop.history) == 1 and loop.history[0].error is not None


def test_a_failing_effect_is_counted_and_the_others_still_run(screen: pygame.Surface) -> None:
    ran: list[str] = []

    def broken() -> None:
        raise OSError("device gone")

    def update(dt: float) -> None:
        airlock.enqueue(broken)
        airlock.enqueue(ran.append, "after")

    loop = GameLoop(screen, update=update, fps=None)
    loop.run(frames=1)
    record = loop.history[0]
    assert (record.failed, record.error) == (1, None)
    assert ran == ["after"]


def test_two_lines_around_an_existing_loop(screen: pygame.Surface) -> None:
    player = SoundPlayer()
    beep = tone(440, 50)
    frames = GameLoop()                      # line 1: before the user's loop
    for _ in range(3):
        with frames:                         # line 2: around the loop body
            for _event in pygame.event.get():
                pass
            player.play(beep)
            player.play(beep)
            screen.fill((10, 20, 30))
            pygame.display.flip()
    assert frames.tick.frame == 3
    assert player.totals.played == 3 and [r.coalesced for r in frames.history] == [1, 1, 1]


def test_the_loop_validates_its_options() -> None:
    with pytest.raises(ValueError, match="dt"):
        GameLoop(dt=0)
    with pytest.raises(ValueError, match="present"):
        GameLoop(present="sometimes")  # type: ignore[arg-type]


def test_dirty_mode_flips_the_first_frame_and_after_an_expose(screen: pygame.Surface) -> None:
    redraw = Redraw()

    def draw(surface: pygame.Surface) -> None:
        surface.fill((0, 0, 0))
        redraw.request((10, 10, 4, 4))

    loop = GameLoop(screen, draw=draw, fps=None, present="dirty", redraw=redraw)
    presented: list[object] = []
    loop.run(frames=2, after_frame=lambda record: presented.append(redraw.last))
    pygame.event.post(pygame.event.Event(pygame.WINDOWEXPOSED))
    loop.run(frames=2, after_frame=lambda record: presented.append(redraw.last))
    rects = [pygame.Rect(10, 10, 4, 4)]
    assert presented == [None, rects, None, rects]


# -- one update per rendered frame (issue 16.1) -----------------------------------------------


def test_a_variable_timestep_runs_one_update_per_frame_under_the_clock(
    screen: pygame.Surface,
) -> None:
    steps: list[float] = []
    loop = GameLoop(screen, update=steps.append, fps=200, dt=1 / 60, max_updates=3,
                    timestep="variable")
    assert loop.run(frames=6) == 6
    assert len(steps) == 6  # never 0 or 2 updates in a frame, whatever the timing
    assert steps[0] == 1 / 60  # the first frame has no measured duration yet
    assert all(0 <= dt <= 3 / 60 for dt in steps[1:])


def test_a_variable_timestep_without_a_clock_is_deterministic(screen: pygame.Surface) -> None:
    steps: list[float] = []
    loop = GameLoop(screen, update=steps.append, fps=None, dt=0.02, timestep="variable")
    loop.run(frames=4)
    assert steps == [0.02] * 4
    assert loop.frame_ms == pytest.approx(20)
    with pytest.raises(ValueError, match="fixed_steps"):
        GameLoop(timestep="variable", fixed_steps=2)
    with pytest.raises(ValueError, match="timestep"):
        GameLoop(timestep="elastic")  # type: ignore[arg-type]


# -- effects asked for during setup join the first frame (issue 16.2) -------------------------


def test_effects_requested_before_run_join_the_first_frame(screen: pygame.Surface) -> None:
    redraw, player = Redraw(), SoundPlayer()
    beep = tone(440, 100)
    loop = GameLoop(screen, fps=None, redraw=redraw, present="dirty")
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        # sprites built during setup ask for effects: no frame is open yet
        redraw.request((5, 5, 10, 10))
        player.play(beep, ui=True)
        player.play(beep)
        sender.send({"hello": 1}, key="greeting")
        assert loop.tick.pending == 4 and redraw.presents == 0  # the tick's own inbox
        loop.run(frames=1)
        receiver.drain(timeout=2.0)
        sender.close()
    assert loop.tick.pending == 0
    first = loop.history[0]
    assert first.enqueued == 5  # the four setup requests and the frame's own full present
    assert first.coalesced == 1  # the two plays of one sound, as in any frame
    assert redraw.presents == 1 and redraw.last is None  # the first frame is a full flip
    assert player.totals.played == 1
    assert receiver.payloads == [{"hello": 1}]


def test_a_setup_request_is_filtered_by_the_first_frames_policy(screen: pygame.Surface) -> None:
    player = SoundPlayer()
    loop = GameLoop(screen, fps=None)
    loop.policies.switch(Mute, True)
    player.play(tone(300, 50))
    loop.run(frames=1)
    assert player.totals.requested == 0 and loop.history[0].dropped == 1


def test_a_setup_request_that_fails_at_flush_is_counted_in_the_first_frame(
    screen: pygame.Surface,
) -> None:
    loop = GameLoop(screen, fps=None)
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        sender.send({"good": 1})  # both wait for the first frame
        sender.send({"bad": object()})  # not JSON: left out at flush
        assert loop.run(frames=1) == 1
        receiver.drain(timeout=2.0)
        sender.close()
    first = loop.history[0]
    assert first.error is None and first.failed == 1 and "bad" in first.failures[0]
    assert [frame for frame, _ in loop.errors] == [0]
    assert receiver.payloads == [{"good": 1}]  # the frame's other payload still went out
    assert loop.run(frames=1) == 1 and loop.history[-1].failed == 0


def test_setup_requests_wait_in_the_ticks_inbox_in_order_and_run_once(
    screen: pygame.Surface,
) -> None:
    ran: list[str] = []
    loop = GameLoop(screen, fps=None)
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        sender.send({"before": 1})  # waits for the first frame
        loop.tick.post(ran.append, "posted")  # any other effect, the same way
        sender.send({"after": 1})
        assert loop.tick.pending == 3
        assert loop.run(frames=2) == 2
        receiver.drain(timeout=2.0)
        sender.close()
    assert loop.tick.pending == 0 and ran == ["posted"]
    assert receiver.messages[0]["payloads"] == [{"before": 1}, {"after": 1}]  # one datagram
    assert receiver.payloads == [{"before": 1}, {"after": 1}]  # each sent once
    assert loop.history[0].enqueued == 4  # the three, and the frame's own flip


def test_setup_requests_are_discarded_with_a_first_frame_that_fails(
    screen: pygame.Surface,
) -> None:
    def update(dt: float) -> None:
        if loop.tick.frame == 0:
            raise RuntimeError("the first frame fails")

    loop = GameLoop(screen, update=update, fps=None)
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        sender.send({"setup": 1})
        assert loop.run(frames=2) == 2
        assert receiver.drain(timeout=0.2) == []
        sender.close()
    assert loop.history[0].error == "RuntimeError('the first frame fails')"
    assert loop.history[0].pending == 0 and loop.history[1].error is None

# -- the display surface is followed (issue 16.3) ---------------------------------------------


def test_the_loop_draws_on_the_new_display_surface_after_set_mode(
    screen: pygame.Surface,
) -> None:
    sizes: list[tuple[int, int]] = []
    loop = GameLoop(screen, draw=lambda surface: sizes.append(surface.get_size()), fps=None)
    loop.run(frames=1)
    pygame.display.set_mode((200, 100))  # pygame-ce resizes the same surface object...
    loop.run(frames=1)
    pygame.display.quit()  # ...but a display restarted (e.g. to switch modes) makes a new one
    pygame.display.init()
    pygame.display.set_mode((160, 120))
    loop.run(frames=1)
    assert sizes == [(320, 240), (200, 100), (160, 120)] and loop.errors == []
    assert loop.surface is pygame.display.get_surface()
    own = pygame.Surface((50, 50))
    loop.surface = own  # any other surface is used as given
    pygame.display.set_mode((300, 300))
    loop.run(frames=1)
    assert sizes[-1] == (50, 50)


# -- quitting (issue 16.4) --------------------------------------------------------------------


def test_on_quit_finish_runs_the_rest_of_the_frame(game: tuple[GameLoop, Recorder]) -> None:
    loop, rec = game
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert loop.run(frames=5) == 1
    assert "update 0.25" in rec.log and "draw" in rec.log


def test_on_quit_skip_stops_before_update_and_flushes_what_events_asked_for(
    screen: pygame.Surface,
) -> None:
    redraw = Redraw()
    rec = Recorder(redraw)

    def on_event(event: pygame.event.Event) -> None:
        airlock.enqueue(rec.log.append, "saved")
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            loop.stop()

    loop = GameLoop(screen, update=rec.update, draw=rec.draw, on_event=on_event, fps=None,
                    redraw=redraw, on_quit="skip")
    assert loop.run(frames=2) == 2  # no quit: every frame runs in full
    rec.log.clear()
    key(pygame.KEYDOWN, pygame.K_ESCAPE)
    assert loop.run(frames=5) == 1
    assert rec.log == ["saved"]  # no update, no draw; the event's effect still ran
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert loop.run(frames=5) == 1 and rec.log == ["saved", "saved"]  # on_event saw the QUIT


@pytest.mark.parametrize("on_quit", ["finish", "skip"])
def test_on_event_gets_the_quit_event_so_a_game_can_save_on_quit(
    screen: pygame.Surface, on_quit: Literal["finish", "skip"],
) -> None:
    saved: list[str] = []

    def on_event(event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:  # as in pygame's examples
            assert not loop.running  # the loop has already stopped
            airlock.enqueue(saved.append, "game saved")

    loop = GameLoop(screen, on_event=on_event, fps=None, on_quit=on_quit)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert loop.run(frames=5) == 1
    assert saved == ["game saved"]


# -- the overlay says whose counts it shows (issue 16.7) --------------------------------------


def test_the_overlay_heading_names_the_frame_drawn_and_the_frame_counted(
    screen: pygame.Surface,
) -> None:
    loop = GameLoop(screen, fps=None, overlay=True)
    headings: list[str] = []
    real_draw = loop.overlay.draw

    def spy(surface: pygame.Surface, frame: int | None = None) -> pygame.Rect | None:
        headings.append(loop.overlay.heading(frame))
        return real_draw(surface, frame)

    loop.overlay.draw = spy  # type: ignore[method-assign]
    loop.run(frames=3)
    assert headings[0] == "frame 0 · no frame flushed yet"
    assert headings[2].startswith("frame 2 · counts of 1 · ")


# -- a failed effect is reported on its own (issue 13.7) --------------------------------------


def test_a_bad_payload_is_reported_in_the_frame_record_and_loop_errors(
    screen: pygame.Surface,
) -> None:
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)

        def update(dt: float) -> None:
            sender.send({"ok": 1})
            sender.send({"bad": {1, 2}})  # a set is not JSON

        loop = GameLoop(screen, update=update, fps=None)
        loop.run(frames=2)
        receiver.drain(timeout=2.0)
        while len(receiver.payloads) < 2 and receiver.drain(timeout=1.0):
            pass
        sender.close()
    assert receiver.payloads == [{"ok": 1}, {"ok": 1}]
    assert [r.failed for r in loop.history] == [1, 1]
    assert [frame for frame, _ in loop.errors] == [0, 1]
    assert all(isinstance(exc, TypeError) for _, exc in loop.errors)
    record = loop.history[0]
    assert record.error is None and len(record.failures) == 1
    assert "payload #1" in record.failures[0] and record.note == record.failures[0]


def test_the_effects_a_game_sees_in_observers_and_logs_have_public_names(
    screen: pygame.Surface,
) -> None:
    class Names(airlock.Observer):
        def __init__(self) -> None:
            self.seen: set[str] = set()

        def enqueued(self, intent: airlock.Intent) -> None:
            self.seen.add(intent.name)

        def dispatched(self, intent: airlock.Intent) -> None:
            self.seen.add(intent.name)

    names = Names()
    redraw, player = Redraw(), SoundPlayer()
    with LoopbackReceiver() as receiver:
        sender = NetSender(receiver.address)
        with airlock.tick_scope(observers=[names]):
            redraw.request((0, 0, 4, 4))
            player.play(tone(440, 20))
            sender.send({"x": 1})
        sender.close()
    assert names.seen == {"present", "start_sounds", "transmit"}  # public methods, callable too


# -- the end of the game: close() -------------------------------------------------------------


def test_close_runs_what_a_budget_carried_past_the_quit_frame(screen: pygame.Surface) -> None:
    saved: list[int] = []

    def on_event(event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            for n in range(4):
                airlock.enqueue(saved.append, n)

    loop = GameLoop(screen, on_event=on_event, fps=None, max_per_frame=2)
    pygame.event.clear()
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert loop.run() == 1
    assert loop.tick.pending == 3  # the flip and one save ran; three saves carried
    loop.close()
    assert saved == [0, 1, 2, 3] and loop.tick.pending == 0 and loop.is_closed
    last = loop.history[-1]
    assert (last.carried_in, last.dispatched) == (3, 3) and last.balance_error() is None
    loop.close()  # a closed loop: nothing more
    assert loop.run(frames=3) == 0 and len(loop.history) == 2


def test_close_discards_held_effects_it_was_not_asked_to_release(
    screen: pygame.Surface, caplog: pytest.LogCaptureFixture,
) -> None:
    saves: list[int] = []
    autosave = airlock.throttle(10.0)(saves.append)
    loop = GameLoop(screen, fps=None, update=lambda dt: airlock.enqueue(autosave, 1))
    loop.run(frames=3)  # the first runs at once; the rest wait for the interval
    assert saves == [1] and loop.tick.held == 1
    loop.close()
    assert saves == [1] and loop.history[-1].discarded == 1
    assert "discarded" in caplog.text


def test_an_interrupt_from_an_effect_is_recorded_and_stops_the_loop(
    screen: pygame.Surface,
) -> None:
    """Review: a KeyboardInterrupt raised by an effect skipped the frame's record (the effect
    after it, undispatched, was then in no record) and left ``running`` on."""
    ran: list[str] = []

    def interrupted() -> None:
        raise KeyboardInterrupt

    def update(dt: float) -> None:
        airlock.enqueue(ran.append, "a")
        airlock.enqueue(interrupted)
        airlock.enqueue(ran.append, "b")

    loop = GameLoop(screen, fps=None, update=update)
    with pytest.raises(KeyboardInterrupt):
        loop.run(frames=1)
    (record,) = loop.history
    assert ran == ["a"] and (record.failed, record.undispatched) == (1, 1)  # "b" never ran
    assert [type(error) for _, error in loop.errors] == [KeyboardInterrupt]
    assert not loop.running


def test_a_close_refused_inside_a_frame_leaves_one_record_of_that_frame(
    screen: pygame.Surface,
) -> None:
    """Review: ``loop.close()`` refused (it was called inside the frame) recorded the frame a
    second time, half done, with the error twice in ``loop.errors``."""

    def on_event(event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            loop.close()  # (wrong: inside the frame; close after run() returns)

    loop = GameLoop(screen, fps=None, on_event=on_event)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert loop.run() == 1
    assert [record.frame for record in loop.history] == [0]
    assert [type(error) for _, error in loop.errors] == [airlock.ScopeStateError]
    assert not loop.is_closed


def test_a_loop_that_keeps_no_history_still_reports_a_failed_frame(
    screen: pygame.Surface, caplog: pytest.LogCaptureFixture,
) -> None:
    """Review: with ``history=0`` the report read the history's last record (an IndexError
    replaced the frame's error)."""
    seen: list[int] = []

    def update(dt: float) -> None:
        raise RuntimeError("update boom")

    loop = GameLoop(screen, fps=None, history=0, update=update)
    assert loop.run(frames=2, after_frame=lambda record: seen.append(record.frame)) == 2
    assert seen == [0, 1] and len(loop.history) == 0
    assert [str(error) for _, error in loop.errors] == ["update boom"] * 2
    assert "frame 1 failed" in caplog.text
