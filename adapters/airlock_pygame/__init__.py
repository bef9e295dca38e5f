"""airlock for pygame-ce: one ``tick_scope`` per frame, and the effects a game sends from anywhere.

- ``GameLoop``: events -> update(s) (fixed steps, or one per frame) -> draw -> flush
  (present, sounds, network); or ``with loop:`` around an existing loop body; or ``await
  loop.run_async()`` in an asyncio program. Effects asked for before a frame is open join
  the next frame.
- ``play_sound`` / ``SoundPlayer``: once per sound per frame, capped, with cooldowns,
  instance limits and priorities; counted, optionally on a deterministic frame clock.
- ``request_redraw`` / ``Redraw``: one ``display.update(rects)`` or one flip per frame.
- ``NetSender``: one UDP datagram per frame (at most ``MAX_DATAGRAM`` bytes);
  ``LoopbackReceiver`` collects them.
- ``Overlay``: per-frame counts, the backlog and a rolling graph (F3 when it is on).
- Policies: ``Mute``, ``Pause``, ``HeadlessServer``, ``Replay`` (toggle in ``loop.policies``).

Needs pygame-ce: ``pip install "airlock-tick[pygame]"``. On a machine with no audio device,
importing this package selects SDL's dummy audio driver (sounds are silent; one warning when
the game first makes or plays a sound).
"""

try:
    import pygame as _pygame  # noqa: F401  (checked first, to name the extra if missing)
except ModuleNotFoundError as _missing:
    raise ImportError(
        "airlock_pygame needs pygame-ce, which is not installed; install it with: "
        'pip install "airlock-tick[pygame]"'
    ) from _missing

from ._env import (
    audio_device_available,
    display_available,
    ensure_mixer,
    select_silent_audio_if_no_device,
    use_dummy_drivers,
)
from ._history import COUNTS, FrameHistory, FrameRecord, format_table
from ._loop import GameLoop
from ._net import MAX_DATAGRAM, LoopbackReceiver, NetReport, NetSender
from ._overlay import BAR_COLORS, Overlay
from ._phases import NETWORK, PHASE_ORDER, REDRAW, SOUND, is_ui, phase_of
from ._policies import DropPhases, HeadlessServer, Mute, Pause, PolicySet, Replay
from ._redraw import Redraw, default_redraw, merge_rects, request_redraw
from ._sound import SoundPlayer, SoundReport, default_sounds, play_sound
from ._synth import noise, tone

__all__ = [
    "BAR_COLORS",
    "COUNTS",
    "MAX_DATAGRAM",
    "NETWORK",
    "PHASE_ORDER",
    "REDRAW",
    "SOUND",
    "DropPhases",
    "FrameHistory",
    "FrameRecord",
    "GameLoop",
    "HeadlessServer",
    "LoopbackReceiver",
    "Mute",
    "NetReport",
    "NetSender",
    "Overlay",
    "Pause",
    "PolicySet",
    "Redraw",
    "Replay",
    "SoundPlayer",
    "SoundReport",
    "audio_device_available",
    "default_redraw",
    "default_sounds",
    "display_available",
    "ensure_mixer",
    "format_table",
    "is_ui",
    "merge_rects",
    "noise",
    "phase_of",
    "play_sound",
    "request_redraw",
    "tone",
    "use_dummy_drivers",
]

select_silent_audio_if_no_device()
