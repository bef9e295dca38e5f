"""The frame loop: event -> update -> draw -> flush (present first), failures discard a frame."""

from __future__ import annotations

import pygame
import pytest

import airlock
from airlock_pygame import GameLoop, Redraw, SoundPlayer, tone


def key(kind: int, code: int) -> None:
    pygame.event.post(pygame.event.Event(kind, key=code, mod=0, unicode="", scancode=0))


class Recorder:
    """A tiny game whose every step leaves a trace, and whose effects leave one when they run."""

    def __init__(self, redraw: Redraw) -> None:
        self.log: list[str] = []
        self.redraw = redraw
        self.fail_next = False

    def on_event(self, event: pygame.event.Event) -> None:
        self.log.append(f"event {pygame.key.name(event.key)}")
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


def test_overlay_key_is_consumed_by_the_overlay(game: tuple[GameLoop, Recorder]) -> None:
    loop, rec = game
    key(pygame.KEYDOWN, pygame.K_F3)
    loop.run(frames=1)
    assert loop.overlay.visible
    assert not [e for e in rec.log if e.startswith("event")]


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
    assert (first.enqueued, first.dispatched) == (0, 0)
    assert second.error is None and second.dispatched == 2
    assert [(frame, str(exc)) for frame, exc in loop.errors] == [(0, "boom in update")]
    # frame 0: the event's effect and the sound were enqueued before the raise: discarded,
    # nothing drawn or presented. Frame 1 runs normally.
    assert rec.log == ["event b", "update 0.25", "update 0.25", "draw",
                       "sound after 1 present(s)"]
    assert loop.redraw.presents == presents + 1
    assert "frame 0 failed" in caplog.text


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
