"""Sounds made in code (no asset files): a tone and a noise burst, shaped to fade out.

Rule: buffers match the mixer's format (16-bit signed; mono or stereo). The mixer is opened
if it is not (silent, with one warning, when there is no audio device).
"""

from __future__ import annotations

import math
import random
from array import array

import pygame

from ._env import ensure_mixer

__all__ = ["noise", "tone"]


def _sound(samples: list[float], volume: float) -> pygame.mixer.Sound:
    channels = _mixer_format()[2]
    peak = 32767 * max(0.0, min(volume, 1.0))
    count = len(samples)
    mono = array("h", [int(peak * v * (1.0 - i / count)) for i, v in enumerate(samples)])
    frames = array("h", bytes(2 * count * channels))
    for channel in range(channels):
        frames[channel::channels] = mono
    return pygame.mixer.Sound(buffer=frames.tobytes())


def tone(freq: float, ms: int, volume: float = 0.3) -> pygame.mixer.Sound:
    """A sine tone of ``freq`` Hz lasting ``ms`` milliseconds, fading out."""
    rate = _rate()
    return _sound([math.sin(2 * math.pi * freq * i / rate) for i in range(rate * ms // 1000)],
                  volume)


def noise(ms: int, volume: float = 0.3, seed: int = 0) -> pygame.mixer.Sound:
    """A white-noise burst lasting ``ms`` milliseconds, fading out (an explosion)."""
    rng = random.Random(seed)
    return _sound([rng.uniform(-1, 1) for _ in range(_rate() * ms // 1000)], volume)


def _rate() -> int:
    return _mixer_format()[0]


def _mixer_format() -> tuple[int, int, int]:
    """(frequency, size, channels) of the mixer, opening it first if needed."""
    ensure_mixer()
    init = pygame.mixer.get_init()
    if init is None:  # closed by another thread in between: say so rather than guess
        raise RuntimeError("pygame.mixer was closed while a sound was being made")
    return init
