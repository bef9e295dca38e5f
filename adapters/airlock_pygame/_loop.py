"""The frame loop: events -> update(s) -> draw -> flush effects (present first).

Rules:
- Each frame is one ``airlock.tick_scope()`` frame. Everything game code enqueues during
  events, updates and draw escapes together at the frame's end, ordered redraw -> sound ->
  network; the ``display.flip()`` itself is the frame's redraw effect, so policies see it.
- ``with loop:`` alone wraps a user's own loop body (they keep their own flip and clock).
- An exception inside a frame discards that frame's effects. ``run()`` records it in
  ``errors`` and the history and goes on (``on_error="raise"`` re-raises instead).
- ``present="dirty"`` presents only requested rects, except a full flip on the first frame
  and after the window is exposed, shown, restored or resized.
- ``timestep="fixed"``: with ``fps=None`` there is no clock and each frame runs exactly
  ``fixed_steps`` updates of ``dt`` seconds (deterministic, for tests and headless runs);
  otherwise the frame's real elapsed time is consumed in fixed ``dt`` steps, at most
  ``max_updates`` per frame. ``timestep="variable"``: exactly one ``update(dt)`` per frame,
  the clock capping the rate at ``fps``; ``dt`` is the previous frame's real duration (the
  first frame's, and every frame's with ``fps=None``: ``dt``), at most ``max_updates * dt``.
- ``surface``: given the display surface, the loop follows it (``pygame.display.set_mode``
  again, e.g. a fullscreen toggle, is drawn on from the next frame); any other surface is
  used as given until ``loop.surface`` is assigned.
- A QUIT event (or ``stop()`` from ``on_event``) ends ``run()`` after this frame; ``on_event``
  still gets the QUIT (to save on quit). The rest of the frame runs (``on_quit="finish"``)
  or its update and draw are skipped (``on_quit="skip"``); either way the effects enqueued
  so far are flushed (under a budget, what does not fit is carried). ``close()`` ends the
  game's effects: a last unbudgeted frame runs what still waits (a tick dropped unclosed
  with effects waiting logs a warning).
- Effect helpers called before a frame is open post their request to the loop's tick: it
  joins the loop's next frame (``_waiting``; ``tick.pending`` counts it meanwhile).
- Inside a frame, each helper request is one enqueue of the helper's batch effect into the
  tick, which coalesces (keys), orders (phases), folds (one call per batch) and counts it like
  any other effect: the frame's record is ``tick.stats`` as it is.
- ``loop.policies`` (switched on and off at any time, also during a frame) filter each frame
  at its flush.
- The loop takes one key for itself, the overlay's (``overlay_key``: F3 when the overlay is
  on, none when it is off); every other event reaches ``on_event``.
- ``await run_async()`` runs the same frames as ``run()`` (``_frames``), giving the event
  loop a turn between frames: ``asyncio.sleep(0)``, or the rest of the frame's ``1/fps``.
- The tick's clock is ``game_time`` (real time with ``fps``, frames times ``frame_ms``
  without): ``@airlock.debounce``/``@airlock.throttle`` tasks are timed by it.
- A failed effect (errors="continue") does not discard its frame: it is counted in the
  frame's record (``failed``, ``failures``) and appended to ``errors``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Literal

import pygame

import airlock

from ._history import FrameHistory, FrameRecord
from ._overlay import Overlay
from ._phases import PHASE_ORDER
from ._policies import PolicySet
from ._redraw import Redraw, default_redraw
from ._waiting import set_waiting_loop

__all__ = ["GameLoop"]

logger = logging.getLogger("airlock.pygame")

#: events after which a dirty-rect loop presents the whole screen once
_EXPOSED = frozenset({pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED, pygame.WINDOWSHOWN,
                      pygame.WINDOWRESTORED, pygame.WINDOWSIZECHANGED})

#: the tick's policy while no game policy is on (see ``GameLoop._apply_policies``)
_EVERYTHING = airlock.AllowAll()

Update = Callable[[float], None]
Draw = Callable[[pygame.Surface], None]
OnEvent = Callable[[pygame.event.Event], None]
AfterFrame = Callable[[FrameRecord], None]


class _Default:
    """``overlay_key``'s default: F3 when the overlay is on, no key when it is off."""

    def __repr__(self) -> str:
        return "F3 if the overlay is on, else None"


_OVERLAY_KEY_DEFAULT = _Default()


class GameLoop:
    """Owns the per-frame ``tick_scope`` and runs the canonical pygame loop.

    ``timestep``: ``"fixed"`` (``dt`` steps for the real time elapsed; ``fixed_steps`` per
    frame when ``fps=None``) or ``"variable"`` (one ``update(dt)`` per frame, ``dt`` measured).
    ``on_quit``: ``"finish"`` the frame that saw QUIT, or ``"skip"`` its update and draw.
    ``present``: ``"flip"`` or ``"dirty"`` (requested rects). ``on_error``: ``"report"`` a
    failed frame in ``errors`` and go on, or ``"raise"``. ``overlay_key``: the key that
    toggles the overlay (a ``pygame.K_*``; None: no key); by default F3 when ``overlay`` is on
    (or an ``Overlay`` is given: its own ``key``), none when it is off. Other keywords go to
    the tick.
    """

    #: the record of the last frame that ended (set by its end; ``history`` may keep none)
    _last_record: FrameRecord

    def __init__(
        self,
        surface: pygame.Surface | None = None,
        *,
        update: Update | None = None,
        draw: Draw | None = None,
        on_event: OnEvent | None = None,
        dt: float = 1 / 60,
        fps: int | None = 60,
        max_updates: int = 5,
        fixed_steps: int = 1,
        timestep: Literal["fixed", "variable"] = "fixed",
        present: Literal["flip", "dirty"] = "flip",
        overlay: bool | Overlay = False,
        overlay_key: int | _Default | None = _OVERLAY_KEY_DEFAULT,
        history: int | FrameHistory | None = 600,
        redraw: Redraw | None = None,
        on_error: Literal["report", "raise"] = "report",
        on_quit: Literal["finish", "skip"] = "finish",
        **tick_options: Any,
    ) -> None:
        if dt <= 0 or max_updates < 1 or fixed_steps < 1:
            raise ValueError(f"need dt > 0, max_updates >= 1 and fixed_steps >= 1, got dt={dt}, "
                             f"max_updates={max_updates}, fixed_steps={fixed_steps}")
        if present not in ("flip", "dirty") or on_error not in ("report", "raise"):
            raise ValueError(f"present must be 'flip' or 'dirty' and on_error 'report' or "
                             f"'raise', got {present!r} and {on_error!r}")
        if timestep not in ("fixed", "variable") or on_quit not in ("finish", "skip"):
            raise ValueError(f"timestep must be 'fixed' or 'variable' and on_quit 'finish' or "
                             f"'skip', got {timestep!r} and {on_quit!r}")
        if timestep == "variable" and fixed_steps != 1:
            raise ValueError("fixed_steps applies to timestep='fixed' only; a variable "
                             "timestep runs one update per frame")
        self.surface = surface
        self.update, self.draw, self.on_event = update, draw, on_event
        self.dt, self.fps, self.max_updates = dt, fps, max_updates
        self.fixed_steps, self.timestep = fixed_steps, timestep
        self.present, self.on_error, self.on_quit = present, on_error, on_quit
        #: the game's policies (Mute, Pause...); the frame's flush applies them
        self.policies = PolicySet()
        tick_options.setdefault("order_by", PHASE_ORDER)
        tick_options.setdefault("errors", "continue")
        tick_options.setdefault("clock", self.game_time)  # times debounce/throttle
        self.tick = airlock.tick_scope(_EVERYTHING, **tick_options)
        self._tick_policy: airlock.Policy = _EVERYTHING  # what _apply_policies last set
        self.policies._changed = lambda: self._apply_policies(self.tick)
        self.history = history if isinstance(history, FrameHistory) else FrameHistory(history)
        if isinstance(overlay, Overlay):
            self.overlay = overlay
        else:
            self.overlay = Overlay(self.history, visible=overlay,
                                   key=pygame.K_F3 if overlay else None)
        if not isinstance(overlay_key, _Default):
            self.overlay.key = overlay_key
        self.redraw = redraw if redraw is not None else default_redraw
        #: (frame, error): frames that failed, and effects that failed in a flushed frame
        self.errors: list[tuple[int, BaseException]] = []
        self.running = False
        self.clock = pygame.time.Clock() if fps else None
        self._lag = dt
        self._frame_dt = dt  # timestep="variable": the dt of the next update
        self._full_present = True  # the first frame, and after the window was exposed
        self._frame_ended = time.perf_counter()  # when the last frame's wait ended
        set_waiting_loop(self)

    @property
    def surface(self) -> pygame.Surface | None:
        """What ``draw`` paints on: the display surface as it is now, if that was given."""
        if self._follow_display:
            current = pygame.display.get_surface() if pygame.display.get_init() else None
            if current is not None:
                return current
        return self._surface

    @surface.setter
    def surface(self, surface: pygame.Surface | None) -> None:
        self._surface = surface
        self._follow_display = bool(surface is not None and pygame.display.get_init()
                                    and surface is pygame.display.get_surface())

    @property
    def frame_ms(self) -> float:
        """Milliseconds of game time per frame (e.g. ``SoundPlayer(frame_ms=loop.frame_ms)``)."""
        if self.fps:
            return 1000 / self.fps
        steps = self.fixed_steps if self.timestep == "fixed" else 1
        return 1000 * self.dt * steps

    def game_time(self) -> float:
        """The loop's clock, in seconds: real time (``time.monotonic``) when the loop has a
        clock (``fps``); otherwise frames times ``frame_ms``, so that headless runs and tests
        are deterministic. The tick's ``clock``: it times ``@airlock.debounce`` and
        ``@airlock.throttle`` tasks."""
        if self.clock is not None:
            return time.monotonic()
        return self.tick.frame * self.frame_ms / 1000

    @property
    def is_closed(self) -> bool:
        """True once ``loop.tick.close()`` ran: no frame opens again."""
        return self.tick.is_closed

    # -- one frame as a context manager ----------------------------------------------------

    def __enter__(self) -> GameLoop:
        self.tick.__enter__()  # takes what was posted meanwhile (setup requests included)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tick = self.tick
        frame = tick.frame
        self._apply_policies(tick)
        try:
            tick.__exit__(exc_type, exc, tb)
        except BaseException as flush_error:  # (an effect's KeyboardInterrupt too)
            self._record(frame, flush_error)
            raise
        self._record(frame, exc)

    def _apply_policies(self, tick: airlock.TickScope) -> None:
        """The tick's policy is ``policies`` while one is on, else the default (a frame with
        no game policy on then skips the policy stage: about a fifth of an empty frame). Run
        by ``switch``/``toggle`` and just before each frame's flush (which sees edits made to
        ``policies.active`` directly). A policy the game set on the tick itself is left alone."""
        current = tick.policy
        if current is not self._tick_policy:
            return
        wanted = self.policies if self.policies.active else _EVERYTHING
        if current is not wanted:
            tick.policy = self._tick_policy = wanted

    def _record(self, frame: int, error: BaseException | None) -> None:
        record = self._last_record = FrameRecord.from_tick(frame, self.tick, error)
        self.history.append(record)
        if error is not None:
            self.errors.append((frame, error))
        if record.failed:
            self.errors.extend((frame, exc) for _, exc in self.tick.stats.failures)

    def close(self) -> None:
        """End the game's effects: one last frame, with no budget, runs everything still
        waiting (posted, carried by a budget), recorded in ``history``; then no frame opens
        again. Held ``debounce``/``throttle`` effects are discarded, counted and logged:
        ``loop.tick.release()`` first runs them. Closing a closed loop does nothing."""
        tick = self.tick
        if tick.is_closed:
            return
        frame = tick.frame
        self._apply_policies(tick)
        try:
            tick.close()
        except BaseException as error:
            if tick.is_closed:  # the last frame failed (a refused close() ran no frame)
                self._record(frame, error)
            raise
        self._record(frame, None)

    # -- the canonical loop ----------------------------------------------------------------

    def stop(self) -> None:
        """End ``run()`` after the current frame (``run()`` again goes on; ``close()`` ends
        the game's effects)."""
        self.running = False

    def run(self, frames: int | None = None, after_frame: AfterFrame | None = None) -> int:
        """Run frames until ``stop()``, a QUIT event, or ``frames`` frames; return frames run."""
        done = 0
        try:
            for _ in self._frames(frames, after_frame):
                done += 1
                self._wait()
        except BaseException:  # (as run_async: an interrupt, or a frame's error re-raised)
            self.running = False
            raise
        return done

    async def run_async(self, frames: int | None = None,
                        after_frame: AfterFrame | None = None) -> int:
        """``run()`` inside an asyncio program: the same frames, and between two frames the
        event loop runs its other tasks (``asyncio.sleep(0)``, or what is left of the frame's
        ``1/fps``). Return the frames run; cancelling it stops it between frames."""
        done = 0
        try:
            for _ in self._frames(frames, after_frame):
                done += 1
                await asyncio.sleep(self._rest_of_frame())
                self._wait(cap=False)  # already slept: only measure the frame
        except BaseException:  # cancelled between frames: no frame is open, nothing is lost
            self.running = False
            raise
        return done

    def _frames(self, frames: int | None, after_frame: AfterFrame | None) -> Iterator[None]:
        """The frames of ``run()`` and ``run_async()``: each step runs one frame (``step()``
        in a frame, a failure reported) and yields; the caller waits before the next."""
        self.running = True
        done = 0
        while self.running and (frames is None or done < frames):
            if self.tick.is_closed:  # loop.tick.close(): no frame opens again
                self.running = False
                break
            opened = False
            try:
                with self:
                    opened = True
                    self.step()
            except Exception as exc:
                if not opened:  # the frame did not open: nothing ran, nothing to record
                    if self.tick.is_closed:  # closed meanwhile (another thread or task)
                        self.running = False
                        break
                    raise  # (another thread's frame of this tick, say: not a frame's failure)
                if self.on_error == "raise":
                    raise
                failed = self._last_record  # (history may keep none: history=0)
                logger.error(
                    "airlock.pygame: frame %d failed (%r): %d effect(s) dispatched, %d "
                    "discarded, %d failed, %d not dispatched", failed.frame, exc,
                    failed.dispatched, failed.discarded, failed.failed, failed.undispatched,
                )
                logger.debug("airlock.pygame: frame %d traceback", self.tick.frame - 1,
                             exc_info=exc)
            if after_frame is not None:
                after_frame(self._last_record)
            done += 1
            yield

    def step(self) -> None:
        """One frame's work inside an open frame: events, updates, draw, overlay, present.

        Without a display (a headless server) there are no events; without a surface, no draw.
        """
        events = pygame.event.get() if pygame.display.get_init() else ()
        was_running = self.running
        for event in events:
            if event.type in _EXPOSED:
                self._full_present = True
            if event.type == pygame.QUIT:
                self.stop()  # on_event still gets it: the place to save on quit
            if not self.overlay.handle_event(event) and self.on_event is not None:
                self.on_event(event)
        if was_running and not self.running and self.on_quit == "skip":
            return
        if self.update is not None:
            if self.timestep == "variable":
                self.update(self._frame_dt)
            else:
                for _ in range(self._steps()):
                    self.update(self.dt)
        surface = self.surface
        if surface is None:
            return
        if self.draw is not None:
            self.draw(surface)
        drawn = self.overlay.draw(surface, frame=self.tick.frame)
        if self.present == "flip" or self._full_present:
            self.redraw.request()
            self._full_present = False
        elif drawn is not None:
            self.redraw.request(drawn)

    def _steps(self) -> int:
        if self.clock is None:
            return self.fixed_steps
        steps = min(int(self._lag / self.dt), self.max_updates)
        self._lag = 0.0 if steps == self.max_updates else self._lag - steps * self.dt
        return steps

    def _wait(self, cap: bool = True) -> None:
        """End a frame on the clock: sleep out the rest of its ``1/fps`` (``cap``), then take
        the frame's real duration for the next updates."""
        if self.clock is not None:
            elapsed = self.clock.tick(self.fps if cap and self.fps else 0) / 1000
            self._lag += elapsed
            self._frame_dt = min(elapsed, self.max_updates * self.dt)
            self._frame_ended = time.perf_counter()

    def _rest_of_frame(self) -> float:
        """Seconds left of this frame's ``1/fps`` (0 without a clock)."""
        if self.clock is None or not self.fps:
            return 0.0
        return max(0.0, 1 / self.fps - (time.perf_counter() - self._frame_ended))
