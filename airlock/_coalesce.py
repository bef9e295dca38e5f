"""Stage 1 of a flush: coalesce. Of the entries sharing a ``_key``, only the last enqueued
goes on; the others count as ``coalesced``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._record import KEY, PLAIN, key_of

if TYPE_CHECKING:
    from ._scope import Scope
    from ._stats import FlushStats

__all__ = ["coalesce"]


def coalesce(scope: Scope, entries: list[Any], stats: FlushStats) -> list[Any]:
    try:  # records only (the common case): len() of an Intent raises
        keys = [entry[KEY] if len(entry) > PLAIN else None for entry in entries]
    except TypeError:  # an Intent among them
        keys = [key_of(entry) for entry in entries]
    last = dict(zip(keys, range(len(keys)), strict=True))  # each key's last position
    last.pop(None, None)
    if len(last) == len(entries) or not last:
        return entries  # every key distinct, or none given: nothing coalesces
    if None in keys:
        survivors = [
            entry for index, (entry, key) in enumerate(zip(entries, keys, strict=True))
            if key is None or last[key] == index
        ]
    else:
        survivors = [entries[index] for index in sorted(last.values())]
    stats.coalesced = len(entries) - len(survivors)
    if scope._watching:  # the entries are intents (see Scope._needs_intents)
        kept = {id(entry) for entry in survivors}
        for entry in entries:
            if id(entry) not in kept:
                scope._tell("coalesced", entry)
    return survivors
