"""Nesting and capture: a scope opened inside another hands its flush to the ancestors.

Rules:
- A scope that opens inside another finds its parent in the ContextVar's previous value (a
  scope, or a policy view over one), with the local policies open around it (``nest``).
- At flush, the capture stage (``offer_to_ancestors``) offers the entries to each ancestor
  that captures now (``Scope._captures_descendants``: an active scope, an open tick),
  innermost first. One whose ``before_descendant_flushes`` is marked ``@captures_all``
  (Scope's own) takes them all as they are, records included; one that overrides it is shown
  Intents (``ancestor_chooses``: such a flush runs on Intents) and takes those it does not
  return. Captured entries join the ancestor's buffer with their provenance
  (``Buffer.capture``) and flush with it, under its policy.
- A plain flush nested in a default capturing ancestor hands its tuples over without running
  the pipeline (``hand_over``, from ``Scope._release``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import Token
from typing import TYPE_CHECKING, Any, TypeVar

from ._context import NO_SCOPE, current_target, resolve
from ._ledger import fresh_stats
from ._record import all_plain
from ._states import ACTIVE, FLUSHED
from ._stats import attach_undispatched

if TYPE_CHECKING:
    from ._flush import FlushContext
    from ._scope import Scope

__all__ = [
    "CAPTURES_ALL", "ancestor_chooses", "captures_all", "capturing_ancestor", "hand_over",
    "nest", "offer_to_ancestors", "open_scope",
]

F = TypeVar("F", bound=Callable[..., Any])

_MISSING = Token.MISSING
_set_target = current_target.set

#: the ``before_descendant_flushes`` functions that capture everything without looking
CAPTURES_ALL: set[Callable[..., Any]] = set()


def captures_all(method: F) -> F:
    """Mark a ``before_descendant_flushes`` that returns [] whatever it is shown (Scope's own):
    an ancestor with it takes a descendant's entries as they are, with no Intent built. An
    override (even one assigned to the class later) is not marked, and is shown Intents."""
    CAPTURES_ALL.add(method)
    return method


def open_scope(scope: Scope) -> None:
    """Make ``scope`` the current scope of the calling context, nested in what was current."""
    token = scope._token = _set_target(scope)
    outer = token.old_value
    if outer is _MISSING or outer is NO_SCOPE:
        scope._parent = None
        scope._ambient_policies = ()
        scope._state = ACTIVE
        scope._update_accepting()
    else:
        nest(scope, outer)


def nest(scope: Scope, outer: Any) -> None:
    """Make ``scope`` active inside the enqueue target ``outer`` (a scope or a policy view).
    (The compiled kernel's ``scope_enter`` inlines it when ``outer`` is a scope: keep in
    sync.)"""
    parent, ambient = resolve(outer)
    scope._parent = parent
    # local policies open around this scope, however deep: a view's, else the parent's
    scope._ambient_policies = ambient or getattr(parent, "_ambient_policies", ())
    scope._state = ACTIVE
    scope._update_accepting()


def capturing_ancestor(scope: Scope) -> Scope | None:
    """The nearest ancestor of ``scope`` that would be asked to capture now, if any."""
    ancestor = scope._parent
    while ancestor is not None:
        if ancestor._captures_descendants():
            return ancestor
        ancestor = ancestor._parent
    return None


def ancestor_chooses(scope: Scope) -> bool:
    """Whether the ancestor that captures ``scope``'s flush chooses what it takes: it overrides
    ``before_descendant_flushes``, so the flush must show it Intents."""
    ancestor = capturing_ancestor(scope)
    return ancestor is not None and type(ancestor).before_descendant_flushes not in CAPTURES_ALL


def offer_to_ancestors(entries: list[Any], ctx: FlushContext) -> list[Any]:
    """The capture stage of ``ctx.owner``'s flush: let each capturing ancestor (innermost
    first) take what it captures; return the rest. On an error, the entries not captured yet
    are recorded as undispatched on it."""
    scope: Scope = ctx.owner
    ancestor = scope._parent
    stats = ctx.stats
    try:
        while entries and ancestor is not None:
            if ancestor._captures_descendants():
                if type(ancestor).before_descendant_flushes in CAPTURES_ALL:
                    if ancestor._capture(entries, scope) is not False:  # (False: it ended
                        stats.captured += len(entries)  # meanwhile; see ``Scope._capture``)
                        return []
                    ancestor = ancestor._parent
                    continue
                allowed = ancestor.before_descendant_flushes(scope, entries)
                if not isinstance(allowed, list):
                    raise TypeError(
                        f"{type(ancestor).__qualname__}.before_descendant_flushes must "
                        f"return a list of intents, got {type(allowed).__qualname__}"
                    )
                allowed_ids = {id(i) for i in allowed}
                if len(allowed_ids) < len(entries):
                    captured = [i for i in entries if id(i) not in allowed_ids]
                    if ancestor._capture(captured, scope) is not False:
                        stats.captured += len(captured)
                        entries = [i for i in entries if id(i) in allowed_ids]
            ancestor = ancestor._parent
    except BaseException as exc:
        attach_undispatched(exc, None, ctx.intents_for(entries))
        raise
    return entries


def hand_over(scope: Scope, ancestor: Scope) -> bool:
    """A flush of plain records nested in ``ancestor``, the one that captures now: when it is
    an active scope that captures all, give it the tuples as they are (True: ``scope`` is
    flushed, nothing ran).

    What is handed over, and counted, is one copy of the buffer: a tick's later arrivals are
    its next frame's, and a scope used once stops capturing first (it has no later flush). A
    copy with an entry that is not plain (one that raced the ``rich`` flag) is left to the
    general flush (False)."""
    if ancestor._state is not ACTIVE or (
        type(ancestor).before_descendant_flushes not in CAPTURES_ALL
    ):
        return False
    tick = scope._plan.tick
    if not tick:
        scope._state = FLUSHED  # captures from descendants go past it from now on
    entries = scope._buffer[:]
    if not all_plain(entries) or ancestor._capture(entries, scope, plain=True) is False:
        return False  # (the general flush takes them)
    scope._state = FLUSHED
    if tick:
        stats = fresh_stats(scope)
        stats.captured = stats.enqueued = len(entries)
    else:  # a scope used once: one count, expanded when read (see _ledger)
        scope._plain_count = len(entries)
        scope._plain_captured = True
    scope._parent = None  # the ancestor's marks hold this scope: no cycle back
    return True
