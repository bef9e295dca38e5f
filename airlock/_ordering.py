"""Ordering: run a flush phase by phase (redraw, then sound, then network), stable within one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._errors import UsageError
from ._intent import Intent

__all__ = ["by_phase", "ordering_error", "phase"]

F = TypeVar("F", bound=Callable[..., Any])


def phase(name: str) -> Callable[[F], F]:
    """Mark a task as in phase ``name``; ``_dispatch_options={"phase": ...}`` overrides it."""

    def mark(task: F) -> F:
        task.airlock_phase = name  # type: ignore[attr-defined]
        return task

    return mark


def by_phase(*phases: str, default: str | None = None) -> Callable[[Intent], int]:
    """An ``order_by`` key: intents run in the order of ``phases``; ties keep enqueue order.

    An intent's phase is ``_dispatch_options["phase"]``, else the task's ``airlock_phase``
    (set by ``@airlock.phase(...)`` or ``airlock.batch(phase=...)``). Intents with no phase run
    in ``default`` (or after every named phase); an unknown phase name raises ``UsageError``.
    """
    if not phases or len(set(phases)) != len(phases):
        raise ValueError(f"by_phase needs distinct phase names, got {phases!r}")
    rank = {name: index for index, name in enumerate(phases)}
    if default is not None and default not in rank:
        raise ValueError(f"default phase {default!r} is not one of {phases!r}")
    no_phase = len(phases) if default is None else rank[default]

    def key(intent: Intent) -> int:
        options = intent._dispatch_options
        name = options.get("phase") if options else None
        if name is None:
            name = getattr(intent.task, "airlock_phase", None)
        if name is None:
            return no_phase
        try:
            return rank[name]
        except KeyError:
            raise UsageError(
                f"{intent} is in phase {name!r}, which is not one of {phases!r}; add it to "
                "by_phase(...) or fix the phase name"
            ) from None

    return key


def ordering_error(
    order_by: Callable[[Intent], Any], intents: list[Intent], error: Exception
) -> UsageError:
    """Explain why sorting ``intents`` by ``order_by`` failed with ``error``, naming the
    ordering function and the intent(s) at fault."""
    name = getattr(order_by, "__qualname__", None) or repr(order_by)
    keys = []
    for intent in intents:
        try:
            keys.append(order_by(intent))
        except Exception as exc:
            return UsageError(
                f"order_by {name} raised {type(exc).__name__} for {intent}: {exc}; it must "
                "return a sort key for every intent"
            )
    for intent, key in zip(intents, keys, strict=True):
        try:
            _ = key < keys[0], keys[0] < key
        except Exception:
            return UsageError(
                f"order_by {name} returned keys that do not compare: {keys[0]!r} for "
                f"{intents[0]} and {key!r} for {intent} ({error}); return keys of one "
                "comparable type"
            )
    return UsageError(f"order_by {name} failed to order {len(intents)} intent(s): {error}")
