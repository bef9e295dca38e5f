"""The app's tick: an ``airlock.TickScope`` that asks for a frame when work waits for one.

Rule: whatever reaches the tick while no frame is open — an enqueue from a timer, a worker or
an effect running during the flush, a nested scope flushing late, ``post()`` from a thread —
joins the next frame (the core's rule), and the tick calls ``wake()`` so that the next frame
comes soon instead of waiting for the next keypress. ``wake`` must be thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airlock import TickScope

__all__ = ["AppTick"]


class AppTick(TickScope):
    """A tick that calls ``wake()`` whenever something waits for its next frame."""

    def __init__(self, wake: Callable[[], None], **options: Any) -> None:
        super().__init__(**options)
        self.wake = wake

    def on_waiting(self) -> None:
        self.wake()
