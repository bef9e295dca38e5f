"""Stage 1 of a flush: coalesce. Of the entries sharing a ``_key``, only the last enqueued
goes on; the others count as ``coalesced``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._record import KEY, PLAIN

if TYPE_CHECKING:
    from ._scope import Scope
    from ._stats import FlushStats

__all__ = ["coalesce"]


def coalesce(scope: Scope, entries: list[Any], stats: FlushStats) -> list[Any]:
    keys = [
        (entry[KEY] if len(entry) > PLAIN else None) if type(entry) is tuple else entry.key
        for entry in entries
    ]
    last = {key: index for index, key in enumerate(keys) if key is not None}
    if not last:
        return entries
    survivors = [
        entry for index, (entry, key) in enumerate(zip(entries, keys, strict=True))
        if key is None or last[key] == index
    ]
    stats.coalesced = len(entries) - len(survivors)
    if scope._watching:  # the entries are intents (see Scope._needs_intents)
        kept = {id(entry) for entry in survivors}
        for entry in entries:
            if id(entry) not in kept:
                scope._tell("coalesced", entry)
    return survivors
