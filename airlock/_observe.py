"""Observers: optional per-intent hooks for overlays, inspectors and audit logs.

A scope with no observers never calls into this module, so unused hooks cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._intent import Intent

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = ["Observer", "check_observer", "check_observers", "watches_intents"]


class Observer:
    """Subclass and override what you need; every hook defaults to doing nothing."""

    def enqueued(self, intent: Intent) -> None:
        """An intent entered a scope with this observer."""

    def coalesced(self, intent: Intent) -> None:
        """An intent was replaced by a later one with the same ``_key``."""

    def dropped(self, intent: Intent) -> None:
        """A policy refused an intent at flush."""

    def dispatched(self, intent: Intent) -> None:
        """The executor took an intent without raising."""

    def failed(self, intent: Intent, error: BaseException) -> None:
        """The executor raised for an intent."""

    def discarded(self, intent: Intent) -> None:
        """An intent was thrown away with its scope (the scope exited with an error)."""

    def flushed(self, scope: Scope) -> None:
        """A scope (for a tick: a frame) finished; ``scope.stats`` has its numbers."""


_HOOKS = ("enqueued", "coalesced", "dropped", "dispatched", "failed", "discarded", "flushed")
_PER_INTENT = _HOOKS[:-1]


def watches_intents(observers: tuple[Observer, ...]) -> bool:
    """True when some observer has a per-intent hook of its own (anything but ``flushed``).

    An observer that only overrides ``flushed`` costs no Intent: its scope keeps the plain
    paths and calls ``flushed`` after each flush. An object that is not an ``Observer``
    subclass is assumed to watch everything.
    """
    for observer in observers:
        cls = type(observer)
        if not isinstance(observer, Observer) or any(
            getattr(cls, hook) is not getattr(Observer, hook) for hook in _PER_INTENT
        ):
            return True
    return False


def check_observers(observers: Any) -> tuple[Observer, ...]:
    """The ``observers=`` argument as a tuple of checked observers, else a clear TypeError."""
    if isinstance(observers, Observer) or not isinstance(observers, Iterable):
        raise TypeError(
            f"observers takes a list of observers, got {observers!r}; pass observers=[...]"
        )
    return tuple(check_observer(o) for o in observers)


def check_observer(observer: Any) -> Observer:
    if isinstance(observer, type):
        name = observer.__name__
        raise TypeError(
            f"an observer must be an observer object, got the class {name}; instantiate it: "
            f"observers=[{name}()]"
        )
    missing = [h for h in _HOOKS if not callable(getattr(observer, h, None))]
    if missing:
        raise TypeError(
            f"{observer!r} is not an airlock observer: missing {', '.join(missing)} "
            "(subclass airlock.Observer to get do-nothing defaults)"
        )
    return observer  # type: ignore[no-any-return]
