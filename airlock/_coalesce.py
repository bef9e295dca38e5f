"""Stage 1 of a flush: coalesce. Of the entries sharing a ``_key``, only the last enqueued
goes on; the others count as ``coalesced``.

A key whose ``__hash__`` or ``__eq__`` raises fails its own intent (``FlushContext.fail``):
under ``errors="continue"`` the rest of the flush goes on without it; under ``"raise"`` the
error escapes naming the key, the other entries recorded as undispatched.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ._record import KEY, PLAIN

if TYPE_CHECKING:
    from ._flush import FlushContext

__all__ = ["coalesce"]

#: stands for the key of an entry that failed, so that it neither survives nor coalesces
_FAILED = object()
_ABSENT = object()


def coalesce(entries: list[Any], ctx: FlushContext) -> list[Any]:
    keys = [entry[KEY] if len(entry) > PLAIN else None for entry in entries]  # key_of inlined
    failed = 0
    last: dict[Any, int] | None
    try:  # each key's last position
        last = dict(zip(keys, range(len(keys)), strict=True))
        unkeyed = last.pop(None, _ABSENT) is not _ABSENT  # some entry has no key
    except Exception:
        last = None
    if last is None:  # some key cannot be hashed or compared: find it, fail only its intent
        last, failed = _last_positions_failing_bad_keys(entries, keys, ctx)
        unkeyed = True  # failed entries are left out by the general filter below
    if not failed and (not last or len(last) == len(entries)):
        return entries  # no key given, or every key distinct: nothing coalesces
    winners = set(last.values())  # positions, so no key is hashed or compared again
    if unkeyed:
        survivors = [
            entry for index, (entry, key) in enumerate(zip(entries, keys, strict=True))
            if key is None or index in winners
        ]
    else:  # every entry keyed: the winners, in order
        survivors = [entries[index] for index in sorted(winners)]
    coalesced = ctx.stats.coalesced = len(entries) - len(survivors) - failed
    if ctx.watching and coalesced:  # the entries are intents (_settle.needs_intents)
        for index, entry in enumerate(entries):
            if keys[index] is not None and keys[index] is not _FAILED and index not in winners:
                ctx.tell("coalesced", entry)
    return survivors


def _last_positions_failing_bad_keys(
    entries: list[Any], keys: list[Any], ctx: FlushContext
) -> tuple[dict[Any, int], int]:
    """``{key: last position}`` built one entry at a time: an entry whose key raises is
    failed and its key replaced by ``_FAILED`` in ``keys``. Returns the positions and the
    number failed; under ``errors="raise"`` the first failure escapes instead."""
    last: dict[Any, int] = {}
    failed = 0
    for index, key in enumerate(keys):
        if key is None:
            continue
        try:
            # a key whose __eq__ raises fails here, before a later key is blamed for it
            key == key  # noqa: B015
            last[key] = index
        except Exception as exc:
            keys[index] = _FAILED
            failed += 1
            intent = ctx.intent_of(entries[index])
            if ctx.fail_or_stop(intent, exc, partial(_all_but, entries, index)) >= 0:
                if hasattr(exc, "add_note"):  # Python 3.11+
                    exc.add_note(f"airlock: the _key {_describe(key)} of {intent} raised")
                raise
    return last, failed


def _all_but(entries: list[Any], index: int) -> list[Any]:
    """``entries`` without the one at ``index`` (the rest of a flush a key's failure stops)."""
    return [entry for position, entry in enumerate(entries) if position != index]


def _describe(key: object) -> str:
    """The key's repr, or its type when that raises too."""
    try:
        return repr(key)
    except Exception:
        return f"<{type(key).__qualname__} object>"
