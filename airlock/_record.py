"""Entries: what a buffer holds, in two shapes, built with no more work than an enqueue's
features need.

- plain: ``(task, args, kwargs)`` — no option, no local policy. It belongs to the scope whose
  buffer holds it, unless that scope's origin marks say otherwise (see ``_buffer``).
- full: ``(task, args, kwargs, name, dispatch_options, origin, key, local_policies, scope)``
  — the fields of an ``Intent``, in order. An enqueue with options stores it as a bare tuple
  (one BUILD_TUPLE: ``name`` and ``dispatch_options`` may be None there); an ``Intent`` *is*
  such a record, named (a tuple subclass, its defaults filled in), built when a hook, a
  policy, an executor or an accessor needs one. From then on that object is the intent's
  identity: a buffer slot is only ever replaced by the Intent built from it.

Readers tell the shapes apart by length (``len(entry) == PLAIN``) and read fields by
position, whatever the class; only naming asks whether an entry is an Intent yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ._intent import Intent

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = [
    "ARGS",
    "DISPATCH_OPTIONS",
    "KEY",
    "KWARGS",
    "LOCAL_POLICIES",
    "NAME",
    "ORIGIN",
    "PLAIN",
    "SCOPE",
    "TASK",
    "all_plain",
    "is_own",
    "key_of",
    "local_policies_of",
    "named_once",
    "phase_of",
    "runs_plain",
    "to_intent",
]

#: the length of a plain record; a full one has nine fields
PLAIN = 3
#: field positions (the first three are a plain record's too)
TASK, ARGS, KWARGS, NAME, DISPATCH_OPTIONS, ORIGIN, KEY, LOCAL_POLICIES, SCOPE = range(9)


def to_intent(entry: Any, owner: Scope) -> Intent:
    """The Intent for a buffer entry (``owner``: the scope a plain record belongs to)."""
    if type(entry) is not tuple:
        return entry  # type: ignore[no-any-return]  # an Intent already
    if len(entry) == PLAIN:
        task, args, kwargs = entry
        return Intent(task, args, kwargs, scope=owner)
    return Intent(*entry)


def all_plain(entries: Iterable[Any]) -> bool:
    """True when every entry is a plain record (what a plain flush loop can run)."""
    return all(len(e) == PLAIN for e in entries)


def runs_plain(entry: Any) -> bool:
    """True when ``entry`` is a plain record or the Intent ``intents`` named from one (no
    option, key or local policy; a callable task): its flush is one call of its task."""
    return len(entry) == PLAIN or (
        entry[KEY] is None and entry[NAME] is None and entry[ORIGIN] is None
        and not entry[DISPATCH_OPTIONS] and not entry[LOCAL_POLICIES] and callable(entry[TASK])
    )


def key_of(entry: Any) -> object:
    """The entry's ``_key`` (None: it coalesces with nothing)."""
    return entry[KEY] if len(entry) > PLAIN else None


def phase_of(entry: Any) -> str | None:
    """The phase an intent (or a buffer record) runs in: its ``_dispatch_options["phase"]``,
    else its task's (``@airlock.phase``, ``airlock.batch(phase=...)``); None: no phase."""
    options = entry[DISPATCH_OPTIONS] if len(entry) > PLAIN else None
    name = options.get("phase") if options else None
    return getattr(entry[TASK], "airlock_phase", None) if name is None else name


def local_policies_of(entry: Any) -> tuple[Any, ...]:
    return entry[LOCAL_POLICIES] if len(entry) > PLAIN else ()


def is_own(entry: Any, scope: Scope) -> bool:
    """True when ``entry`` was enqueued into ``scope`` (a plain record in its buffer is,
    once origin marks are resolved)."""
    return len(entry) == PLAIN or entry[SCOPE] is scope


def named_once(
    entries: Iterable[Any], asked: Callable[[Any], bool],
    intents_for: Callable[[list[Any]], list[Intent]],
) -> dict[int, Intent]:
    """``{id(record): its Intent}`` for the records among ``entries`` that ``asked`` picks,
    named in one pass (naming them one by one reads the whole buffer again each time).
    Entries that are Intents already are left out."""
    records = [entry for entry in entries if type(entry) is tuple and asked(entry)]
    return dict(zip(map(id, records), intents_for(records), strict=True)) if records else {}
