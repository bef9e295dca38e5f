"""Asteroids on pygame-ce: every sound, redraw and telemetry packet goes through airlock.

``python -m demos asteroids`` (headless with no display: scripted input, a per-frame table and
a screenshot; ``--windowed`` to play: arrows, space, M mute, P pause, R replay, G glitch, F3;
``--asyncio``: the loop as one task of an asyncio program, ``await loop.run_async()``).
"""

from __future__ import annotations

SUMMARY = "asteroids on pygame: sounds, dirty rects and UDP telemetry flushed once per frame"
EXTRA = "pygame"
REQUIRES = ("pygame",)

__all__ = ["EXTRA", "REQUIRES", "SUMMARY", "main"]


def main(argv: list[str]) -> int:
    """Run the demo (``--help`` for its options); pygame is imported only now."""
    from ._main import main as run

    return run(argv)
