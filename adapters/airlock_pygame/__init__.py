"""airlock for pygame-ce: one ``tick_scope`` per frame, and the effects a game sends from anywhere.

- ``GameLoop``: events -> fixed-timestep updates -> draw -> flush (present, sounds, network);
  or ``with loop:`` around an existing loop body.
- ``play_sound`` / ``SoundPlayer``: once per sound per frame, capped, counted.
- ``request_redraw`` / ``Redraw``: one ``display.update(rects)`` or one flip per frame.
- ``NetSender``: one UDP datagram per frame; ``LoopbackReceiver`` collects them.
- ``Overlay``: per-frame counts and a rolling graph (F3).
- Policies: ``Mute``, ``Pause``, ``HeadlessServer``, ``Replay`` (toggle in ``loop.policies``).
"""

from ._env import display_available, use_dummy_drivers
from ._history import COUNTS, FrameHistory, FrameRecord, format_table
from ._loop import GameLoop
from ._net import LoopbackReceiver, NetReport, NetSender
from ._overlay import BAR_COLORS, Overlay
from ._phases import NETWORK, PHASE_ORDER, REDRAW, SOUND, is_ui, phase_of
from ._policies import DropPhases, HeadlessServer, Mute, Pause, PolicySet, Replay
from ._redraw import Redraw, default_redraw, merge_rects, request_redraw
from ._sound import SoundPlayer, SoundReport, default_sounds, play_sound
from ._synth import noise, tone

__all__ = [
    "BAR_COLORS",
    "COUNTS",
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
    "default_redraw",
    "default_sounds",
    "display_available",
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
