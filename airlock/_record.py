"""Records: what one enqueue stores, built with no more work than its features need.

A record is a plain tuple (one BUILD_TUPLE to make, no class, no ``__init__``):

- plain: ``(task, args, kwargs)`` — no option, no local policy. It belongs to the scope whose
  buffer holds it, unless that scope's origin marks say otherwise (see ``_scope.py``).
- full: ``(task, args, kwargs, name, dispatch_options, origin, key, local_policies, scope)`` —
  ``Intent``'s constructor arguments in order, so ``Intent(*record)`` materializes it.

A buffer may also hold an ``Intent``: a record materialized for a hook, a policy, an executor
or an accessor. From then on that object is the intent's identity, so a buffer slot is only
ever replaced by the Intent built from it. Pipeline stages accept all three forms.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._intent import Intent

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = [
    "DISPATCH_OPTIONS",
    "KEY",
    "LOCAL_POLICIES",
    "NAME",
    "ORIGIN",
    "PLAIN",
    "SCOPE",
    "all_plain",
    "is_own",
    "key_of",
    "local_policies_of",
    "phase_of",
    "to_intent",
]

#: the length of a plain record; a full one has nine fields
PLAIN = 3
#: field positions in a full record (the first three are shared with a plain one)
NAME, DISPATCH_OPTIONS, ORIGIN, KEY, LOCAL_POLICIES, SCOPE = 3, 4, 5, 6, 7, 8


def to_intent(entry: Any, owner: Scope) -> Intent:
    """The Intent for a buffer entry (``owner``: the scope a plain record belongs to)."""
    if type(entry) is Intent:
        return entry
    if len(entry) == PLAIN:
        task, args, kwargs = entry
        return Intent(task, args, kwargs, scope=owner)
    return Intent(*entry)


def all_plain(entries: Iterable[Any]) -> bool:
    """True when every entry is a plain record (what a plain flush loop can run)."""
    return all(type(e) is tuple and len(e) == PLAIN for e in entries)


def key_of(entry: Any) -> object:
    """The entry's ``_key`` (None: it coalesces with nothing)."""
    if type(entry) is tuple:
        return entry[KEY] if len(entry) > PLAIN else None
    return entry.key


def phase_of(entry: Any) -> str | None:
    """The phase an intent (or a buffer record) runs in: its ``_dispatch_options["phase"]``,
    else its task's (``@airlock.phase``, ``airlock.batch(phase=...)``); None: no phase.
    (``by_phase``'s record key inlines it for records: keep the two in sync.)"""
    if type(entry) is tuple:
        task = entry[0]
        options = entry[DISPATCH_OPTIONS] if len(entry) > PLAIN else None
    else:
        task, options = entry.task, entry._dispatch_options
    name = options.get("phase") if options else None
    return getattr(task, "airlock_phase", None) if name is None else name


def local_policies_of(entry: Any) -> tuple[Any, ...]:
    if type(entry) is tuple:
        return entry[LOCAL_POLICIES] if len(entry) > PLAIN else ()
    return entry.local_policies  # type: ignore[no-any-return]


def is_own(entry: Any, scope: Scope) -> bool:
    """True when ``entry`` was enqueued into ``scope`` (a plain record in its buffer is,
    once origin marks are resolved)."""
    if type(entry) is tuple:
        return len(entry) == PLAIN or entry[SCOPE] is scope
    return entry.scope is scope
