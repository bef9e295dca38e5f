"""Asteroids on pygame-ce: every sound, redraw and telemetry packet goes through airlock.

``python -m demos asteroids`` (headless with no display: scripted input, a per-frame table and
a screenshot; ``--windowed`` to play: arrows, space, M mute, P pause, R replay, G glitch, F3).
"""

from ._main import main

SUMMARY = "asteroids on pygame: sounds, dirty rects and UDP telemetry flushed once per frame"

__all__ = ["SUMMARY", "main"]
