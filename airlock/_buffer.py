"""A scope's buffer: its entries in arrival order, and which scope each plain record is of.

Rule: a buffer is a list of entries (see ``_record``): plain records, full records and
Intents. A plain record names no scope: it is the buffer's scope's (``owner``) unless the
origin marks say otherwise. ``origins`` is None or a list of ``(index, scope)`` marks in index
order: plain records from ``index`` on were enqueued into ``scope`` (None: the owner), up to
the next mark; a capture from a descendant writes them. An entry is only ever replaced by the
Intent built from it, so once materialized its identity is stable. Each function reads the
entries present when it starts (another thread may append meanwhile) and works in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._intent import Intent
from ._record import PLAIN, to_intent

__all__ = ["full_records", "intents_for", "materialize", "owned"]

Origins = list[tuple[int, Any]] | None


def owned(entries: list[Any], origins: Origins, owner: Any) -> Iterator[tuple[int, Any, Any]]:
    """Each of ``entries`` (a buffer's head) with its index and the scope a plain record there
    is of, as the origin marks say."""
    marks = iter(origins or ())
    mark = next(marks, None)
    scope = owner
    for index, entry in enumerate(entries):
        while mark is not None and mark[0] <= index:
            scope = mark[1] or owner
            mark = next(marks, None)
        yield index, entry, scope


def materialize(buffer: list[Any], origins: Origins, owner: Any) -> list[Intent]:
    """Turn the buffer's records into Intents in place; return the Intents. (The origin marks
    are spent: the caller drops them.)"""
    count = len(buffer)
    for index, entry, scope in owned(buffer[:count], origins, owner):
        if type(entry) is tuple:
            buffer[index] = to_intent(entry, scope)
    return buffer[:count]


def full_records(buffer: list[Any], origins: Origins, owner: Any) -> list[Any]:
    """The buffer's entries for a flush that needs no Intent: plain records of another scope
    (origin marks) become full records in place, so every plain one left is the owner's."""
    count = len(buffer)
    if origins:
        for index, entry, scope in owned(buffer[:count], origins, owner):
            if scope is not owner and type(entry) is tuple and len(entry) == PLAIN:
                buffer[index] = (*entry, None, None, None, None, (), scope)
    return buffer[:count]


def intents_for(buffer: list[Any], entries: list[Any], owner: Any) -> tuple[list[Intent], bool]:
    """The Intents of ``entries`` (taken from ``buffer``, plain records of ``owner``); each
    record found in the buffer is replaced there by its Intent. Returns (intents, whether the
    buffer changed)."""
    if all(type(e) is Intent for e in entries):
        return entries, False
    where = {id(e): index for index, e in enumerate(buffer) if type(e) is tuple}
    intents: list[Intent] = []
    changed = False
    for entry in entries:
        if type(entry) is not Intent:
            intent = to_intent(entry, owner)
            index = where.get(id(entry))
            if index is not None and buffer[index] is entry:
                buffer[index] = intent
                changed = True
            entry = intent
        intents.append(entry)
    return intents, changed
