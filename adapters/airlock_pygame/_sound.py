"""Sounds: once per sound per frame, capped per frame, with cooldowns, instance limits, priority.

Rules:
- ``play(sound)`` is one ``airlock.enqueue`` of the player's ``airlock.batch``
  (``start_sounds``, in the ``sound`` phase) with ``_key=("sound", player, sound)``, so the
  core coalesces repeats in a frame into one (the last request's options and place win); a
  ``ui=True`` request carries ``_dispatch_options={"ui": True}``, so ``Pause`` keeps it
  (policies judge each request before the batch is folded). A non-Sound is refused at the call
  (TypeError), so one bad request never reaches, or spoils, the frame's batch. With no frame
  open, a request waits for the next GameLoop frame (``_waiting``).
- The frame's sounds (ui or not) reach one batch call. Highest ``priority`` first (ties:
  request order), each sound is, in this order of checks:
  *cooldown* — started less than ``cooldown_ms`` ago: coalesced into that play;
  *limited* — ``max_instances`` of it already playing;
  *capped* — ``cap`` sounds already started this frame;
  *played* — on a free channel, or on the channel of the oldest playing sound of lower
  priority, which is cut off (counted as *stolen*);
  *starved* — no channel free or stealable (or no mixer); the frame's later sounds (of lower
  or equal priority) then starve without another search.
  ``requested == played + cooldown + limited + capped + starved``; nothing is lost silently
  the way ``Sound.play()`` returning None is.
- Clock: by default channels are pygame's, freed by the mixer in real time (``played``,
  ``starved``, ``limited``, ``stolen`` and ``cooldown`` then depend on timing). With
  ``frame_ms`` set, the player keeps channel occupancy itself, counted in frames of
  ``frame_ms`` (frames of the tick that flushes it, frames without sounds included; a plain
  scope's flush, or another tick's, counts one): a sound holds its channel for
  ``ceil(length / frame_ms)`` frames, and every count is the same on every run.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from numbers import Real
from typing import Any, NamedTuple

import pygame

import airlock

from ._env import warn_if_silent
from ._phases import SOUND, UI_OPTIONS
from ._waiting import post_to_latest

_Sound = pygame.mixer.Sound

__all__ = ["SoundPlayer", "SoundReport", "default_sounds", "play_sound"]

logger = logging.getLogger("airlock.pygame")


@dataclass
class SoundReport:
    """Sound counts over some frames: ``requested`` = played + the five ways not to play."""

    requested: int = 0  #: distinct sounds of the frame that reached the player
    played: int = 0  #: started on a channel
    capped: int = 0  #: over the per-frame cap
    starved: int = 0  #: no free mixer channel, none stealable (or no mixer)
    cooldown: int = 0  #: started again within its ``cooldown_ms``: coalesced into that play
    limited: int = 0  #: ``max_instances`` of it were already playing
    stolen: int = 0  #: playing sounds cut off by a higher-priority one (counted in ``played``)

    def add(self, other: SoundReport) -> None:
        self.requested += other.requested
        self.played += other.played
        self.capped += other.capped
        self.starved += other.starved
        self.cooldown += other.cooldown
        self.limited += other.limited
        self.stolen += other.stolen

    def summary(self) -> str:
        """One line for an overlay or a log: ``played 3  capped 0  starved 1 ...``."""
        return (f"played {self.played}  capped {self.capped}  starved {self.starved}  "
                f"cooldown {self.cooldown}  limited {self.limited}  stolen {self.stolen}")


class _Request(NamedTuple):
    sound: pygame.mixer.Sound
    volume: float | None
    priority: int
    cooldown_ms: float
    max_instances: int | None


#: builds a _Request from a tuple without its generated ``__new__`` (one call, per request)
_new_request = tuple.__new__


class _Playing(NamedTuple):
    sound: pygame.mixer.Sound
    priority: int
    start: int  # clock units: ms (real time) or frames (frame clock)
    end: int


class SoundPlayer:
    """Plays sounds enqueued from anywhere: deduplicated, capped, cooled down, prioritised.

    ``cooldown_ms`` and ``max_instances`` are the defaults for every sound; ``play()`` can
    override them per call. ``frame_ms`` switches on the deterministic frame clock.
    """

    def __init__(self, cap: int | None = None, *, cooldown_ms: float = 0,
                 max_instances: int | None = None, frame_ms: float | None = None) -> None:
        if cap is not None and (not isinstance(cap, int) or cap < 1):
            raise ValueError(f"cap must be a positive number of sounds per frame, got {cap!r}")
        _check_rules(cooldown_ms, max_instances)
        if frame_ms is not None and not (isinstance(frame_ms, Real) and frame_ms > 0):
            raise ValueError(f"frame_ms must be a positive number of milliseconds or None, "
                             f"got {frame_ms!r}")
        self._cap = cap
        self.cooldown_ms: float = cooldown_ms
        self.max_instances: int | None = max_instances
        #: None: pygame's channels, in real time; else the frame clock (see the module rules)
        self.frame_ms: float | None = frame_ms
        self.totals = SoundReport()
        self._pending = SoundReport()
        self._playing: dict[int, _Playing] = {}  # channel id -> what this player started there
        self._last_start: dict[pygame.mixer.Sound, int] = {}
        self._frames = 0  # the frame clock
        self._tick_seen = (0, 0)  # (id, frame) of the tick at the last flush
        self._batch = airlock.batch(self.start_sounds, phase=SOUND)
        self._id = id(self)

    @property
    def cap(self) -> int:
        """Most sounds started per frame: the given cap, else the mixer's channel count."""
        if self._cap is not None:
            return self._cap
        return pygame.mixer.get_num_channels() if pygame.mixer.get_init() else 8

    def play(self, sound: pygame.mixer.Sound, *, volume: float | None = None,
             ui: bool = False, priority: int = 0, cooldown_ms: float | None = None,
             max_instances: int | None = None) -> None:
        """Play ``sound`` at the end of this frame (once, however often it is asked for).

        ``priority``: when channels run out, a sound takes the channel of the oldest playing
        sound of lower priority. ``cooldown_ms`` / ``max_instances`` override the player's.
        """
        if type(sound) is not _Sound and not isinstance(sound, _Sound):
            raise TypeError(f"play_sound() needs a pygame.mixer.Sound, got {sound!r}")
        if volume is not None and not isinstance(volume, Real):
            raise TypeError(f"volume must be a number from 0 to 1 or None, got {volume!r}")
        if type(priority) is not int and not isinstance(priority, int):
            raise TypeError(f"priority must be an int, got {priority!r}")
        if cooldown_ms is None and max_instances is None:  # the player's, checked already
            cooldown_ms, max_instances = self.cooldown_ms, self.max_instances
        else:
            if cooldown_ms is None:
                cooldown_ms = self.cooldown_ms
            if max_instances is None:
                max_instances = self.max_instances
            _check_rules(cooldown_ms, max_instances)
        request = _new_request(_Request, (sound, volume, priority, cooldown_ms, max_instances))
        key = ("sound", self._id, id(sound))
        try:
            if ui:
                airlock.enqueue(self._batch, request, _key=key, _dispatch_options=UI_OPTIONS)
            else:
                airlock.enqueue(self._batch, request, _key=key)
        except airlock.NoScopeError:
            post_to_latest("play_sound", self._batch, request, _key=key,
                           _dispatch_options=UI_OPTIONS if ui else None)

    def take_report(self) -> SoundReport:
        """The counts since the last call (e.g. for the frame that just ended)."""
        report, self._pending = self._pending, SoundReport()
        return report

    # -- the frame's batch -----------------------------------------------------------------

    def start_sounds(self, requests: list[_Request]) -> None:
        """Start a frame's sound requests now (the batch handler; see the module rules)."""
        report = SoundReport(requested=len(requests))
        warn_if_silent()
        if not pygame.mixer.get_init():
            logger.warning("airlock.pygame: mixer not initialised; %d sound(s) starved",
                           len(requests))
            report.starved = len(requests)
        else:
            self._start_all(requests, report, self.cap)
        if report.requested != report.played:
            logger.debug("airlock.pygame: sounds not played this frame: %s", report)
        self._pending.add(report)
        self.totals.add(report)

    def _start_all(self, requests: list[_Request], report: SoundReport, cap: int) -> None:
        now = self._now()
        ordered = sorted(requests, key=_by_priority) if len(requests) > 1 else requests
        no_channel = False  # none free, none stealable: so for every later (lower) priority
        for request in ordered:
            sound = request.sound
            last = self._last_start.get(sound)
            if (request.cooldown_ms and last is not None
                    and now - last < self._units(request.cooldown_ms)):
                report.cooldown += 1
            elif (request.max_instances is not None
                    and self._instances(sound, now) >= request.max_instances):
                report.limited += 1
            elif report.played >= cap:
                report.capped += 1
            elif no_channel:
                report.starved += 1
            else:
                channel = self._free_channel(now)
                if channel is None:
                    channel = self._steal(request.priority, now, report)
                if channel is None:
                    report.starved += 1
                    no_channel = True
                    continue
                channel.play(sound)
                channel.set_volume(1.0 if request.volume is None else request.volume)
                length = self._units(sound.get_length() * 1000)
                self._playing[channel.id] = _Playing(sound, request.priority, now,
                                                     now + max(1, length))
                self._last_start[sound] = now
                report.played += 1

    # -- clocks and channels ---------------------------------------------------------------

    def _now(self) -> int:
        """The clock at this flush: ms, or frames (advanced by the tick's frame count)."""
        if self.frame_ms is None:
            return pygame.time.get_ticks()
        scope = airlock.get_current_scope()
        if (isinstance(scope, airlock.TickScope) and id(scope) == self._tick_seen[0]
                and scope.frame >= self._tick_seen[1]):
            self._frames += scope.frame - self._tick_seen[1]
        else:  # a plain scope, or another tick: one frame per flush
            self._frames += 1
        if isinstance(scope, airlock.TickScope):
            self._tick_seen = (id(scope), scope.frame)
        return self._frames

    def _units(self, ms: float) -> int:
        """``ms`` in clock units: ms, or whole frames (rounded up) on the frame clock."""
        return math.ceil(ms) if self.frame_ms is None else math.ceil(ms / self.frame_ms - 1e-6)

    def _is_playing(self, channel_id: int, now: int) -> bool:
        entry = self._playing.get(channel_id)
        if entry is None:
            return False
        if self.frame_ms is not None:
            return entry.end > now
        channel = pygame.mixer.Channel(channel_id)
        return bool(channel.get_busy()) and channel.get_sound() is entry.sound

    def _instances(self, sound: pygame.mixer.Sound, now: int) -> int:
        if self.frame_ms is None:
            return int(sound.get_num_channels())
        return sum(1 for cid, entry in self._playing.items()
                   if entry.sound is sound and self._is_playing(cid, now))

    def _free_channel(self, now: int) -> pygame.mixer.Channel | None:
        if self.frame_ms is None:
            return pygame.mixer.find_channel()
        for cid in range(pygame.mixer.get_num_channels()):
            if not self._is_playing(cid, now):
                return pygame.mixer.Channel(cid)
        return None

    def _steal(self, priority: int, now: int, report: SoundReport) -> pygame.mixer.Channel | None:
        """The channel of the oldest playing sound below ``priority`` (None: nothing lower)."""
        victims = [(entry.start, cid) for cid, entry in self._playing.items()
                   if entry.priority < priority and self._is_playing(cid, now)]
        if not victims:
            return None
        report.stolen += 1
        return pygame.mixer.Channel(min(victims)[1])


def _by_priority(request: _Request) -> int:
    return -request.priority


def _check_rules(cooldown_ms: Any, max_instances: Any) -> None:
    if not isinstance(cooldown_ms, Real) or cooldown_ms < 0:
        raise ValueError(f"cooldown_ms must be a number of milliseconds >= 0, got {cooldown_ms!r}")
    if max_instances is not None and (not isinstance(max_instances, int) or max_instances < 1):
        raise ValueError(f"max_instances must be a positive int or None, got {max_instances!r}")


#: the instance ``play_sound`` uses (cap: the mixer's channel count)
default_sounds = SoundPlayer()


def play_sound(sound: pygame.mixer.Sound, *, volume: float | None = None, ui: bool = False,
               priority: int = 0, cooldown_ms: float | None = None,
               max_instances: int | None = None) -> None:
    """Play ``sound`` at the end of this frame, at most once per frame (``SoundPlayer.play``)."""
    default_sounds.play(sound, volume=volume, ui=ui, priority=priority,
                        cooldown_ms=cooldown_ms, max_instances=max_instances)

