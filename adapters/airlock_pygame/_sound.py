"""Sounds: each sound plays at most once per frame, and at most ``cap`` sounds start per frame.

Rule: ``play(sound)`` enqueues with ``_key=("sound", player, sound)``, so repeats in a frame
coalesce into one. The frame's sounds reach one batch call that starts at most ``cap`` of them
(default: the mixer's channel count) on free channels. Sounds over the cap are *capped*, sounds
that found no free channel are *starved*; both are counted in the report instead of being lost
silently the way ``Sound.play()`` returning None is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

import pygame

import airlock

from ._phases import SOUND, ui_options

__all__ = ["SoundPlayer", "SoundReport", "default_sounds", "play_sound"]

logger = logging.getLogger("airlock.pygame")


@dataclass
class SoundReport:
    """Sound counts over some frames."""

    requested: int = 0  #: distinct sounds that reached the mixer
    played: int = 0  #: started on a channel
    capped: int = 0  #: over the per-frame cap
    starved: int = 0  #: no free mixer channel (or no mixer)

    def add(self, other: SoundReport) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


class SoundPlayer:
    """Plays sounds enqueued from anywhere, deduplicated and capped per frame."""

    def __init__(self, cap: int | None = None) -> None:
        if cap is not None and cap < 1:
            raise ValueError(f"cap must be a positive number of sounds per frame, got {cap!r}")
        self._cap = cap
        self.totals = SoundReport()
        self._pending = SoundReport()
        self._batch = airlock.batch(self._play_all, phase=SOUND)

    @property
    def cap(self) -> int:
        """Most sounds started per frame: the given cap, else the mixer's channel count."""
        if self._cap is not None:
            return self._cap
        return pygame.mixer.get_num_channels() if pygame.mixer.get_init() else 8

    def play(self, sound: pygame.mixer.Sound, *, volume: float | None = None,
             ui: bool = False) -> None:
        """Play ``sound`` at the end of this frame (once, however often it is asked for)."""
        airlock.enqueue(
            self._batch, (sound, volume), _key=("sound", id(self), id(sound)),
            _dispatch_options=ui_options(ui),
        )

    def take_report(self) -> SoundReport:
        """The counts since the last call (e.g. for the frame that just ended)."""
        report, self._pending = self._pending, SoundReport()
        return report

    def _play_all(self, requests: list[tuple[pygame.mixer.Sound, float | None]]) -> None:
        report = SoundReport(requested=len(requests))
        cap = self.cap
        if not pygame.mixer.get_init():
            logger.warning("airlock.pygame: mixer not initialised; %d sound(s) starved",
                           len(requests))
            cap = 0
        for sound, volume in requests:
            if cap and report.played >= cap:
                report.capped += 1
                continue
            channel = pygame.mixer.find_channel() if cap else None
            if channel is None:
                report.starved += 1
                continue
            channel.play(sound)
            if volume is not None:
                channel.set_volume(volume)
            report.played += 1
        if report.capped or report.starved:
            logger.debug("airlock.pygame: sounds not played this frame: %s", report)
        self._pending.add(report)
        self.totals.add(report)


#: the instance ``play_sound`` uses (cap: the mixer's channel count)
default_sounds = SoundPlayer()


def play_sound(sound: pygame.mixer.Sound, *, volume: float | None = None,
               ui: bool = False) -> None:
    """Play ``sound`` at the end of this frame, at most once per frame."""
    default_sounds.play(sound, volume=volume, ui=ui)
