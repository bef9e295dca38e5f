"""Choosing between a window and headless (SDL dummy drivers), and sound without a sound card.

Rules:
- Headless when no display server is reachable (no DISPLAY / WAYLAND_DISPLAY on Linux and
  BSDs); the dummy drivers must be selected before ``pygame.init()``.
- No audio device is not an error: when ``SDL_AUDIODRIVER`` is unset and Linux shows no
  playback device (no ALSA ``/dev/snd/pcm*p``, no PulseAudio or PipeWire server), importing
  ``airlock_pygame`` selects SDL's dummy audio driver; if the mixer still cannot be opened
  when a sound is made, the dummy driver is tried then. Either way sounds are silent and ONE
  warning says so, when the game first makes or plays a sound.
"""

from __future__ import annotations

import glob
import os
import sys
import warnings

import pygame

__all__ = ["audio_device_available", "display_available", "ensure_mixer", "use_dummy_drivers"]

_SILENT = ("airlock_pygame: no audio device{detail}; sounds are silent (SDL's dummy audio "
           "driver). Set SDL_AUDIODRIVER to choose a driver yourself (=dummy to silence this).")
_warned = False
_silent_detail: str | None = None  # chosen silent at import; said when sound is first used


def display_available() -> bool:
    """Whether a windowed run can open a window here."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def use_dummy_drivers() -> None:
    """Select SDL's dummy video and audio drivers (call before ``pygame.init()``).

    Silence is then chosen, so the no-audio-device warning is not given.
    """
    global _silent_detail
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    _silent_detail = None


def audio_device_available() -> bool:
    """Whether this machine shows a sound output (always True off Linux: SDL decides there)."""
    if not sys.platform.startswith("linux") or os.environ.get("PULSE_SERVER"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    servers = (f"{runtime}/pulse/native", f"{runtime}/pipewire-0", "/var/run/pulse/native")
    return any(os.path.exists(path) for path in servers) or bool(glob.glob("/dev/snd/pcmC*p"))


def _warn_silent(detail: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        # one line, whoever triggered it (an import, or the first sound made)
        warnings.warn_explicit(_SILENT.format(detail=detail), RuntimeWarning,
                               filename="airlock_pygame", lineno=0, module="airlock_pygame")


def select_silent_audio_if_no_device() -> None:
    """At import: pick the dummy audio driver when nothing could play sound."""
    global _silent_detail
    if "SDL_AUDIODRIVER" not in os.environ and not audio_device_available():
        os.environ["SDL_AUDIODRIVER"] = "dummy"
        _silent_detail = " found"


def warn_if_silent() -> None:
    """Say once that sounds are silent, if the import chose so (called when sound is used)."""
    if _silent_detail is not None and os.environ.get("SDL_AUDIODRIVER") == "dummy":
        _warn_silent(_silent_detail)


def ensure_mixer() -> None:
    """Open the mixer if it is not open; with no usable audio device, open it silent.

    Raises RuntimeError only when not even SDL's dummy audio driver can be opened.
    """
    warn_if_silent()
    if pygame.mixer.get_init():
        return
    try:
        pygame.mixer.init()
        return
    except pygame.error as exc:
        reason = str(exc)
    previous = os.environ.get("SDL_AUDIODRIVER")
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    try:
        pygame.mixer.init()
    except pygame.error as exc:
        raise RuntimeError(f"pygame.mixer cannot be opened, not even silent: {exc}") from exc
    finally:
        if previous is None:
            del os.environ["SDL_AUDIODRIVER"]
        else:
            os.environ["SDL_AUDIODRIVER"] = previous
    _warn_silent(f" could be opened ({reason})")
