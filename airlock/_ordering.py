"""Ordering: run a flush phase by phase (redraw, then sound, then network), stable within one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import UsageError
from ._intent import Intent
from ._record import phase_of

__all__ = ["by_phase", "order", "ordering_error", "phase", "sorts_records"]

if TYPE_CHECKING:
    from ._flush import FlushContext

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger("airlock")


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

    def key(entry: Any) -> int:  # an Intent or a record
        name = phase_of(entry)
        if name is None:
            return no_phase
        if name in rank:
            return rank[name]
        raise UsageError(
            f"{describe(entry)} is in phase {name!r}, which is not one of {phases!r}; add "
            "it to by_phase(...) or fix the phase name"
        )

    key.record_key = key  # type: ignore[attr-defined]  # it keys records: see sorts_records
    # the compiled kernel's order stage ranks records itself from these (keep in sync)
    key.phase_ranks = (rank, no_phase)  # type: ignore[attr-defined]
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


def describe(entry: Any) -> str:
    """How an error message shows a buffer entry: as its intent would print."""
    return str(Intent(*entry) if type(entry) is tuple else entry)


def sorts_records(order_by: Callable[[Intent], Any]) -> bool:
    """True when ``order_by`` can key records directly (``by_phase`` can), so ordering needs
    no Intent."""
    return callable(getattr(order_by, "record_key", None))


def order(entries: list[Any], ctx: FlushContext) -> list[Any]:
    """Stage 5 of a flush: a stable sort by ``ctx.order_by``. If it fails: raise a clear error,
    or under errors="continue" log it, count a hook error and keep enqueue order."""
    order_by = ctx.order_by
    assert order_by is not None
    key = getattr(order_by, "record_key", order_by)
    try:
        return sorted(entries, key=key)
    except Exception as exc:
        error = ordering_error(order_by, ctx.intents_for(entries), exc)
        error.__cause__ = exc
    if ctx.errors != "continue":
        raise error
    ctx.stats.hook_errors += 1
    logger.error("airlock: %s; dispatching in enqueue order", error, exc_info=error)
    return entries
