"""Observers: optional per-intent hooks for overlays, inspectors and audit logs.

A scope with no observers never calls into this module, so unused hooks cost nothing. An
observer's error never stops a flush: it is remembered, then counted and logged once when the
flush ends (``notify_flushed``), and raised then under ``errors="raise"``.

A scope with observers holds an ``ObserverSet``: it tells them each hook, keeps their errors
and reports them when the flush ends. It reads which hooks each observer defines once, when
it is made: a hook an observer inherits from ``Observer`` (which does nothing) is never
called.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ._intent import Intent
from ._stats import annotate

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = [
    "Observer",
    "ObserverSet",
    "check_observer",
    "check_observers",
    "defines_hook",
    "report_background_failure",
    "tell_after_flush",
    "watches_intents",
]

logger = logging.getLogger("airlock")


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
        """The executor raised for an intent, or its work failed or was cancelled after the
        flush (see ``report_background_failure``; ``error`` is then a ``CancelledError``)."""

    def discarded(self, intent: Intent) -> None:
        """An intent was thrown away with its scope (the scope exited with an error), or left
        it: its enqueue, told ``enqueued``, found the scope ended meanwhile (another thread
        ended it while the hooks ran) and was refused or forwarded to a later target."""

    def flushed(self, scope: Scope) -> None:
        """A scope (for a tick: a frame) finished; ``scope.stats`` has its numbers."""


_HOOKS = ("enqueued", "coalesced", "dropped", "dispatched", "failed", "discarded", "flushed")
_PER_INTENT = _HOOKS[:-1]


def defines_hook(observer: Any, hook: str) -> bool:
    """False when ``observer`` has ``hook`` only as ``Observer``'s do-nothing default
    (calling it would change nothing); an object that is not an ``Observer`` defines all."""
    return (
        not isinstance(observer, Observer)
        or getattr(type(observer), hook) is not getattr(Observer, hook)
        or hook in getattr(observer, "__dict__", ())
    )


def watches_intents(observers: tuple[Observer, ...]) -> bool:
    """True when some observer has a per-intent hook of its own (anything but ``flushed``).

    An observer that only overrides ``flushed`` costs no Intent: its scope keeps the plain
    paths and calls ``flushed`` after each flush. An object that is not an ``Observer``
    subclass is assumed to watch everything.
    """
    return any(defines_hook(observer, hook) for observer in observers for hook in _PER_INTENT)


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


class ObserverSet:
    """A scope's observers: ``tell`` calls a hook on each, ``flushed`` ends a flush.

    Rule: an observer's error never stops a flush. The set remembers it (the first error, or
    the first interrupt, and how many) until the flush ends; ``flushed`` then calls every
    observer's ``flushed``, counts the errors into the flush's ``hook_errors``, logs them once,
    and raises the first under ``errors="raise"`` (an interrupt always) unless the flush is
    already raising its own error.
    """

    __slots__ = ("_failure", "hears_flushes", "listeners", "observers", "watching")

    def __init__(self, observers: tuple[Observer, ...]) -> None:
        self.observers = observers
        #: hook name -> the observers that define it, read once here: an ``Observer``
        #: subclass's inherited do-nothing hook is never called (the hook itself is looked up
        #: at each call: an observer's hook patched later is heard)
        self.listeners: dict[str, tuple[Any, ...]] = {
            hook: tuple(observer for observer in observers if defines_hook(observer, hook))
            for hook in _HOOKS
        }
        #: some observer has a per-intent hook (``watches_intents``): the flush makes Intents
        self.watching = watches_intents(observers)
        #: some observer has a ``flushed`` of its own (or is not an ``Observer``): each flush
        #: ends by calling it (else the call does nothing, and a tick's frame may skip it)
        self.hears_flushes = self.watching or bool(self.listeners["flushed"])
        #: (first error, "Observer.hook", count) of the observer errors not yet reported
        self._failure: tuple[BaseException, str, int] | None = None

    def tell(self, hook: str, *args: Any) -> None:
        """Call ``hook`` on every observer that defines it; an error is remembered, never
        raised here. (The compiled kernel's ``tell_observers`` is its twin: keep in sync.)"""
        for observer in self.listeners[hook]:
            try:
                getattr(observer, hook)(*args)
            except BaseException as exc:
                self.hook_failed(exc, observer, hook)

    def hook_failed(self, exc: BaseException, observer: Any, hook: str) -> None:
        """Remember an observer's error until the flush ends (the first, or an interrupt)."""
        where = f"{type(observer).__qualname__}.{hook}"
        failure = self._failure
        if failure is None:
            self._failure = (exc, where, 1)
        elif isinstance(failure[0], Exception) and not isinstance(exc, Exception):
            self._failure = (exc, where, failure[2] + 1)
        else:
            self._failure = (failure[0], failure[1], failure[2] + 1)

    def flushed(self, scope: Scope, failing: bool) -> None:
        """Call every observer's ``flushed``, then report the flush's observer errors.

        ``failing``: the flush is raising an error of its own, which the observer errors must
        not replace.
        """
        for observer in self.listeners["flushed"]:
            try:
                observer.flushed(scope)
            except BaseException as exc:
                self.hook_failed(exc, observer, "flushed")
        failure = self._failure
        if failure is not None:
            self._failure = None
            error, where, count = failure
            _report_hook_failure(scope, error, where, count, failing)


def report_background_failure(
    intent: Intent, error: BaseException, scope: Scope | None = None
) -> None:
    """Tell ``Observer.failed`` of ``scope`` (default: ``intent.scope``, the scope it was
    enqueued in) that ``intent``'s work failed or was cancelled after its flush ended (a task,
    a worker thread, a commit).

    For executors whose work ends after the flush returned. Runs on the thread where the work
    ended; see ``tell_after_flush`` for how observer errors are handled.
    """
    if scope is None:
        scope = intent.scope
        if scope is None:
            return
    tell_after_flush(scope, "failed", intent, error)


def tell_after_flush(scope: Scope, hook: str, intent: Intent, *args: Any) -> None:
    """Call ``hook`` on every observer of ``scope`` that defines it, about ``intent``, once the
    flush is over (no flush is left to report their errors). One that raises is logged and the
    others still hear; an interrupt (``KeyboardInterrupt``) raised by one is raised again after
    all heard.
    """
    interrupt: BaseException | None = None
    for observer in scope.observers:
        if not defines_hook(observer, hook):  # (``Observer``'s do-nothing default)
            continue
        try:
            getattr(observer, hook)(intent, *args)
        except BaseException as exc:
            logger.error(
                "airlock: observer %s.%s raised when told about %s after its flush",
                type(observer).__qualname__, hook, intent, exc_info=exc,
            )
            if interrupt is None and not isinstance(exc, Exception):
                interrupt = exc
    if interrupt is not None:
        raise interrupt


def _report_hook_failure(
    self: Scope, exc: BaseException, where: str, count: int, failing: bool
) -> None:
    """Count and log a flush's observer errors once; raise the first under "raise" (and an
    interrupt always), unless the flush is already failing."""
    self._current_stats().hook_errors += count
    logger.error(
        "airlock: observer %s raised (%d observer error(s) in this flush of %r); "
        "every intent was still accounted for", where, count, self, exc_info=exc,
    )
    if failing:
        return  # the flush's own error goes on
    if self.errors == "raise" or not isinstance(exc, Exception):
        annotate(exc, None, [], f"airlock: raised by observer {where} ({count} observer "
                 "error(s)); the flush went on and every intent was accounted for")
        raise exc
