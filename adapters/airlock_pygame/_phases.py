"""Effect phases: a frame's flush presents first, then plays sounds, then talks to the network.

Rule: an intent's phase is ``_dispatch_options["phase"]``, else its task's ``airlock_phase``;
an intent is UI (kept while paused) when it is in the redraw phase or was enqueued with
``_dispatch_options={"ui": True}``.
"""

from __future__ import annotations

from typing import Any

import airlock

__all__ = ["NETWORK", "PHASE_ORDER", "REDRAW", "SOUND", "UI_OPTIONS", "is_ui", "phase_of"]

REDRAW = "redraw"
SOUND = "sound"
NETWORK = "network"

#: ``order_by`` for a frame: redraw, sound, network; effects with no phase run last.
PHASE_ORDER = airlock.by_phase(REDRAW, SOUND, NETWORK)

#: the ``_dispatch_options`` an effect helper passes for ``ui=True`` (shared: never changed)
UI_OPTIONS: dict[str, Any] = {"ui": True}


def phase_of(intent: airlock.Intent) -> str | None:
    """The phase an intent runs in, or None."""
    options = intent.dispatch_options
    name = options.get("phase") if options else None
    if name is None:
        name = getattr(intent.task, "airlock_phase", None)
    return name if isinstance(name, str) else None


def is_ui(intent: airlock.Intent) -> bool:
    """UI effects survive a pause: redraws, and anything enqueued with ``ui=True``."""
    options = intent.dispatch_options
    return bool(options and options.get("ui")) or phase_of(intent) == REDRAW
