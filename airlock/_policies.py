"""Policies decide *whether* an intent escapes. They observe and filter; they never enqueue."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from ._errors import PolicyViolation
from ._intent import Intent

__all__ = [
    "AllowAll",
    "AssertNoEffects",
    "BlockTasks",
    "DropAll",
    "LogOnFlush",
    "Policy",
    "check_policy",
    "has_enqueue_hook",
    "is_allow_all",
]


@runtime_checkable
class Policy(Protocol):
    """The policy interface. Subclass it to inherit do-nothing defaults.

    Runtime-checkable: any object with ``on_enqueue`` and ``allows`` methods passes
    ``isinstance(obj, airlock.Policy)``, subclass or not.

    ``on_enqueue(intent)`` runs when an intent is enqueued (it may raise to refuse loudly);
    ``allows(intent)`` runs at flush and returns whether the intent escapes. A policy may also
    define ``withdraws(intent) -> bool`` (optional, not part of the protocol): True when the
    intent's enqueue was undone since (a rolled-back transaction): it is dropped before
    coalescing, as if never enqueued, so it supersedes no other intent with its ``_key``.
    """

    def on_enqueue(self, intent: Intent) -> None:
        """Observe an intent as it is enqueued. Default: do nothing."""
        return None

    def allows(self, intent: Intent) -> bool:
        """Whether ``intent`` may escape at flush. Default: yes."""
        return True


def check_policy(policy: Any) -> Policy:
    """Return ``policy`` if it implements the protocol, else raise ``TypeError`` saying why."""
    if isinstance(policy, type):
        name = policy.__qualname__
        raise TypeError(
            f"policy must be a policy object, got the class {name}; instantiate it: "
            f"policy={name}()"
        )
    if not (callable(getattr(policy, "on_enqueue", None))
            and callable(getattr(policy, "allows", None))):
        raise TypeError(
            f"{policy!r} is not an airlock policy: a policy needs on_enqueue(intent) and "
            "allows(intent) methods (subclass airlock.Policy to get defaults)"
        )
    return policy  # type: ignore[no-any-return]


def has_enqueue_hook(policy: Policy) -> bool:
    """False when ``on_enqueue`` is the inherited no-op, so enqueue can skip calling it."""
    return getattr(type(policy), "on_enqueue", None) is not Policy.on_enqueue


def is_allow_all(policy: Policy) -> bool:
    """True when ``allows`` is the inherited always-yes and there is no ``withdraws`` (see
    ``_withdraw``), so flush can skip asking it."""
    return getattr(type(policy), "allows", None) is Policy.allows and not callable(
        getattr(policy, "withdraws", None)
    )


def any_judges(policies: tuple[Policy, ...]) -> bool:
    """True when one of ``policies`` may say no (its ``allows`` is not the inherited yes)."""
    return not all(map(is_allow_all, policies))


class AllowAll(Policy):
    """Every intent escapes (the default)."""

    def __repr__(self) -> str:
        return "AllowAll()"


class DropAll(Policy):
    """No intent escapes; they are dropped silently at flush."""

    def allows(self, intent: Intent) -> bool:
        return False

    def __repr__(self) -> str:
        return "DropAll()"


class AssertNoEffects(Policy):
    """Raise ``PolicyViolation`` as soon as any intent is enqueued under it; an intent a nested
    scope hands it at flush is refused (counted in ``stats.dropped``)."""

    def on_enqueue(self, intent: Intent) -> None:
        raise PolicyViolation(
            f"{intent} was enqueued under AssertNoEffects(); Unexpected side effect: this code "
            "path must not produce any — remove the enqueue or run it under another policy"
        )

    def allows(self, intent: Intent) -> bool:
        return False  # the protocol's answer, as in airlock-py; the loud refusal is on_enqueue

    def __repr__(self) -> str:
        return "AssertNoEffects()"


class BlockTasks(Policy):
    """Drop intents named in ``names``; with ``raise_on_enqueue``, refuse them loudly.

    A name matches an intent's ``name`` (``"send_email"``) or its ``qualified_name``
    (``"myapp.tasks.send_email"``, the registered name of a Celery task or Dramatiq actor).
    """

    def __init__(self, names: Iterable[str], raise_on_enqueue: bool = False) -> None:
        if isinstance(names, str):
            raise TypeError(f"BlockTasks takes a collection of task names, not {names!r}")
        self.names = frozenset(names)
        self.raise_on_enqueue = raise_on_enqueue
        self._dotted = any("." in name for name in self.names)

    def blocks(self, intent: Intent) -> bool:
        """Whether ``intent`` is one of the blocked tasks."""
        names = self.names
        return intent.name in names or (self._dotted and intent.qualified_name in names)

    def on_enqueue(self, intent: Intent) -> None:
        if self.raise_on_enqueue and self.blocks(intent):
            raise PolicyViolation(
                f"{intent} is blocked by BlockTasks({sorted(self.names)}); do not enqueue it here"
            )

    def allows(self, intent: Intent) -> bool:
        return not self.blocks(intent)

    def __repr__(self) -> str:
        return f"BlockTasks({sorted(self.names)!r}, raise_on_enqueue={self.raise_on_enqueue})"


class LogOnFlush(Policy):
    """Allow everything, logging each intent as it is released."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger if logger is not None else logging.getLogger("airlock")

    def allows(self, intent: Intent) -> bool:
        self.logger.info("airlock: releasing %s", intent)
        return True

    def __repr__(self) -> str:
        return f"LogOnFlush(logger={self.logger.name!r})"
