"""Making a scope current without entering it: the extension API for adapters.

A framework that runs code on a scope's behalf (a UI toolkit's message handlers between
ticks, a worker thread started for a tick) makes that scope the target of ``enqueue`` for the
code it runs, then restores what was there. The scope's lifecycle is untouched: an enqueue
goes where it would for code that kept the scope's context — into it while it is active,
otherwise to ``late_enqueue_target()`` (a tick: its next frame), otherwise refused through
``enqueue_refused``.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from ._context import current_target
from ._errors import ScopeStateError
from ._scope import Scope

__all__ = ["get_enqueue_target", "reset_current_scope", "set_current_scope"]

get_enqueue_target = current_target.get
"""``airlock.get_enqueue_target()``: where ``enqueue()`` in this context goes, for ``is`` tests.

A ``Scope`` when enqueues go straight into it; otherwise an opaque marker (no scope open,
inside an ``airlock.policy(...)`` block, inside policy code). Costs one ``ContextVar.get``:
cheap enough for an adapter to check per request whether its tick is the target.
"""


def set_current_scope(scope: Scope) -> Token[Any]:
    """Make ``scope`` the target of ``airlock.enqueue`` in this context, without entering it.

    Returns a token: pass it to ``reset_current_scope`` in the same context (``try``/``finally``).
    """
    if not isinstance(scope, Scope):
        raise TypeError(
            f"set_current_scope() takes an airlock scope (airlock.scope(), a tick), got {scope!r}"
        )
    return current_target.set(scope)


def reset_current_scope(token: Token[Any]) -> None:
    """Undo the ``set_current_scope`` call that returned ``token``."""
    if not isinstance(token, Token):
        raise TypeError(
            f"reset_current_scope() takes the token set_current_scope() returned, got {token!r}"
        )
    try:
        current_target.reset(token)
    except ValueError:
        raise ScopeStateError(
            "reset_current_scope() was given a token from another context (another thread or "
            "asyncio task); reset it where set_current_scope() was called"
        ) from None
    except RuntimeError:
        raise ScopeStateError(
            "reset_current_scope() was given a token that was already reset; reset each "
            "token once"
        ) from None
