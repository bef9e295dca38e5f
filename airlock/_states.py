"""The states of a scope's lifecycle and of a tick's frame, and how each reads in an error.

Rule: a scope's state is one of these strings, compared by identity (``is``): NEW ->
``enter()`` -> ACTIVE -> ``exit()`` -> PENDING -> exactly one of ``flush()``/``discard()`` ->
FLUSHED | DISCARDED. A tick's ``_inline`` is one of the frame modes (see ``_frame``): how its
next ``__enter__``/``__exit__`` may run.
"""

from __future__ import annotations

__all__ = [
    "ACTIVE", "DECIDING", "DISCARDED", "DONE_STATE", "FLUSHED", "GENERAL", "IDLE", "KEPT",
    "NEW", "OPEN", "PENDING",
]

NEW, ACTIVE, PENDING, FLUSHED, DISCARDED = "new", "active", "exited", "flushed", "discarded"

#: how a scope's state reads in an error message ("cannot enqueue ...: it <this>")
DONE_STATE = {
    NEW: "was never entered",
    ACTIVE: "is active",
    PENDING: "has already been exited",
    FLUSHED: "has already been flushed",
    DISCARDED: "has already been discarded",
}

# values of TickScope._inline: how the next __enter__/__exit__ may run (see ``_frame``);
# DECIDING: a frame's end is working out the next one (``update_inline``)
GENERAL, OPEN, IDLE, KEPT, DECIDING = 0, 1, 2, 3, 4
