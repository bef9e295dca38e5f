"""Choosing between a window and headless (SDL dummy drivers).

Rule: headless when no display server is reachable (no DISPLAY / WAYLAND_DISPLAY on
Linux and BSDs); the dummy drivers must be selected before ``pygame.init()``.
"""

from __future__ import annotations

import os
import sys

__all__ = ["display_available", "use_dummy_drivers"]


def display_available() -> bool:
    """Whether a windowed run can open a window here."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def use_dummy_drivers() -> None:
    """Select SDL's dummy video and audio drivers (call before ``pygame.init()``)."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
