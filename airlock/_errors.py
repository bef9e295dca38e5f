"""The exception tree: everything airlock raises on purpose derives from AirlockError."""

from __future__ import annotations

__all__ = [
    "AirlockError",
    "BacklogFullError",
    "NoScopeError",
    "PolicyEnqueueError",
    "PolicyViolation",
    "ScopeStateError",
    "UsageError",
]


class AirlockError(Exception):
    """Base of every error airlock raises on purpose."""


class UsageError(AirlockError):
    """airlock was called in a way its rules forbid."""


class NoScopeError(UsageError):
    """``enqueue()`` was called with no scope open in this context (airlock fails closed)."""


class PolicyEnqueueError(UsageError):
    """A policy tried to enqueue; policies observe and filter, they never produce effects."""


class ScopeStateError(AirlockError):
    """A scope was asked to do something its lifecycle state does not allow."""


class BacklogFullError(AirlockError):
    """``tick.post()`` found the tick's inbox full (``max_pending``) under ``on_full="raise"``."""


class PolicyViolation(AirlockError):
    """A policy refused an intent loudly (AssertNoEffects, BlockTasks with raise_on_enqueue)."""


def _present_as_public() -> None:
    """Every class in ``__all__`` is re-exported by ``airlock``: name it there, so tracebacks
    and reprs say ``airlock.NoScopeError`` (and pickling finds it), not ``airlock._errors``."""
    for name in __all__:
        globals()[name].__module__ = "airlock"


_present_as_public()  # keep last: it names the classes defined above
