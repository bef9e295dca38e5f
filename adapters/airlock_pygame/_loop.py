"""The frame loop: events -> fixed-timestep update(s) -> draw -> flush effects (present first).

Rules:
- Each frame is one ``airlock.tick_scope()`` frame. Everything game code enqueues during
  events, updates and draw escapes together at the frame's end, ordered redraw -> sound ->
  network; the ``display.flip()`` itself is the frame's redraw effect, so policies see it.
- ``with loop:`` alone wraps a user's own loop body (they keep their own flip and clock).
- An exception inside a frame discards that frame's effects. ``run()`` records it in
  ``errors`` and the history and goes on (``on_error="raise"`` re-raises instead).
- ``present="dirty"`` presents only requested rects, except a full flip on the first frame
  and after the window is exposed, shown, restored or resized.
- With ``fps=None`` there is no clock: each frame runs exactly ``fixed_steps`` updates of
  ``dt`` seconds (deterministic, for tests and headless runs). Otherwise the frame's real
  elapsed time is consumed in fixed ``dt`` steps, at most ``max_updates`` per frame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal

import pygame

import airlock

from ._history import FrameHistory, FrameRecord
from ._overlay import Overlay
from ._phases import PHASE_ORDER
from ._policies import PolicySet
from ._redraw import Redraw, default_redraw

__all__ = ["GameLoop"]

logger = logging.getLogger("airlock.pygame")

#: events after which a dirty-rect loop presents the whole screen once
_EXPOSED = frozenset({pygame.VIDEOEXPOSE, pygame.WINDOWEXPOSED, pygame.WINDOWSHOWN,
                      pygame.WINDOWRESTORED, pygame.WINDOWSIZECHANGED})

Update = Callable[[float], None]
Draw = Callable[[pygame.Surface], None]
OnEvent = Callable[[pygame.event.Event], None]


class GameLoop:
    """Owns the per-frame ``tick_scope`` and runs the canonical pygame loop."""

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
        present: Literal["flip", "dirty"] = "flip",
        overlay: bool | Overlay = False,
        history: int | FrameHistory | None = 600,
        redraw: Redraw | None = None,
        on_error: Literal["report", "raise"] = "report",
        **tick_options: Any,
    ) -> None:
        if dt <= 0 or max_updates < 1 or fixed_steps < 1:
            raise ValueError(f"need dt > 0, max_updates >= 1 and fixed_steps >= 1, got dt={dt}, "
                             f"max_updates={max_updates}, fixed_steps={fixed_steps}")
        if present not in ("flip", "dirty") or on_error not in ("report", "raise"):
            raise ValueError(f"present must be 'flip' or 'dirty' and on_error 'report' or "
                             f"'raise', got {present!r} and {on_error!r}")
        self.surface = surface
        self.update, self.draw, self.on_event = update, draw, on_event
        self.dt, self.fps, self.max_updates = dt, fps, max_updates
        self.fixed_steps = fixed_steps
        self.present, self.on_error = present, on_error
        self.policies = PolicySet()
        tick_options.setdefault("order_by", PHASE_ORDER)
        tick_options.setdefault("errors", "continue")
        self.tick = airlock.tick_scope(self.policies, **tick_options)
        self.history = history if isinstance(history, FrameHistory) else FrameHistory(history)
        if isinstance(overlay, Overlay):
            self.overlay = overlay
        else:
            self.overlay = Overlay(self.history, visible=overlay)
        self.redraw = redraw if redraw is not None else default_redraw
        self.errors: list[tuple[int, BaseException]] = []
        self.running = False
        self.clock = pygame.time.Clock() if fps else None
        self._lag = dt
        self._full_present = True  # the first frame, and after the window was exposed

    # -- one frame as a context manager ----------------------------------------------------

    def __enter__(self) -> GameLoop:
        self.tick.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        frame = self.tick.frame
        try:
            self.tick.__exit__(exc_type, exc, tb)
        except Exception as flush_error:
            self._record(frame, flush_error)
            raise
        self._record(frame, exc)

    def _record(self, frame: int, error: BaseException | None) -> None:
        self.history.append(FrameRecord.from_tick(frame, self.tick, error))
        if error is not None:
            self.errors.append((frame, error))

    # -- the canonical loop ----------------------------------------------------------------

    def stop(self) -> None:
        """End ``run()`` after the current frame."""
        self.running = False

    def run(self, frames: int | None = None,
            after_frame: Callable[[FrameRecord], None] | None = None) -> int:
        """Run frames until ``stop()``, a QUIT event, or ``frames`` frames; return frames run."""
        self.running = True
        done = 0
        while self.running and (frames is None or done < frames):
            try:
                with self:
                    self.step()
            except Exception as exc:
                if self.on_error == "raise":
                    raise
                logger.error("airlock.pygame: frame %d failed (%r); its effects were discarded",
                             self.tick.frame - 1, exc)
                logger.debug("airlock.pygame: frame %d traceback", self.tick.frame - 1,
                             exc_info=exc)
            done += 1
            if after_frame is not None:
                after_frame(self.history[-1])
            self._wait()
        return done

    def step(self) -> None:
        """One frame's work inside an open frame: events, updates, draw, overlay, present.

        Without a display (a headless server) there are no events; without a surface, no draw.
        """
        events = pygame.event.get() if pygame.display.get_init() else ()
        for event in events:
            if event.type in _EXPOSED:
                self._full_present = True
            if event.type == pygame.QUIT:
                self.stop()
            elif not self.overlay.handle_event(event) and self.on_event is not None:
                self.on_event(event)
        if self.update is not None:
            for _ in range(self._steps()):
                self.update(self.dt)
        surface = self.surface
        if surface is None:
            return
        if self.draw is not None:
            self.draw(surface)
        drawn = self.overlay.draw(surface)
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

    def _wait(self) -> None:
        if self.clock is not None:
            self._lag += self.clock.tick(self.fps or 0) / 1000
