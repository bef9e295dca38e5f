"""What a flush's stages see: a small context of plain data and callbacks, not the scope.

Rule: a stage is a function ``(entries, ctx) -> entries`` (see ``_pipeline``). It reads the
flush's configuration from the context, counts what it decides into ``ctx.stats``, reports to
observers with ``ctx.tell`` and fails an intent with ``ctx.fail``; it turns an entry into an
Intent only through ``ctx.intent_of``/``ctx.intents_for`` (the scope keeps that identity in its
buffer). A scope fills one context per flush (``Scope._flush_context``); tests build their own
with plain lists and recording callbacks.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._dispatch import dispatch
from ._executor import sync_executor
from ._policies import AllowAll, Policy, is_allow_all
from ._record import to_intent
from ._stats import FlushStats, attach_undispatched

if TYPE_CHECKING:
    from ._intent import Intent

__all__ = ["Dispatcher", "FlushContext", "Stage"]

logger = logging.getLogger("airlock")

#: a stage, or a scope's part in the pipeline (capture, hold)
Stage = Callable[[list[Any], "FlushContext"], list[Any]]
#: the last stage: hands entries to the executor
Dispatcher = Callable[[list[Any], "FlushContext"], None]


class FlushContext:
    """One flush's configuration, ledger and callbacks.

    ``owner`` is the flushing scope, as an identity only (a plain record is its own; a full
    one names its scope); ``filtering``: some entry carries local policies; ``keyed``,
    ``batching``: some entry has a ``_key``, some task is a batch; ``judging``: the policy is not
    allow-all. ``capture`` and ``hold`` are the scope's stages when it has a parent or held
    tasks (None: skipped); ``dispatch`` hands entries to the executor (None: the dispatch loop
    under the default executor with nothing watching, see ``FlushPlan.dispatcher``); a tick's
    budget dispatcher reads its ``carry`` and ``budget``.
    """

    __slots__ = (
        "batching", "budget", "capture", "carry", "dispatch", "errors", "executor", "filtering",
        "hold", "intent_of", "intents_for", "judging", "keyed", "order_by", "owner", "policy",
        "stats", "tell", "watching",
    )

    def __init__(
        self,
        owner: Any,
        tell: Callable[..., None],
        intent_of: Callable[[Any], Intent],
        intents_for: Callable[[list[Any]], list[Intent]],
        dispatch: Dispatcher | None,
    ) -> None:
        # what stays for the life of the scope; the rest is written before each flush
        # (Scope._flush_context), here only given a value
        self.owner = owner
        self.tell = tell
        self.intent_of = intent_of
        self.intents_for = intents_for
        self.dispatch = dispatch
        self.stats: FlushStats = _NO_STATS
        self.policy: Policy = _ALLOW_ALL
        self.executor: Callable[[Intent], Any] = sync_executor
        self.order_by: Callable[[Intent], Any] | None = None
        self.errors = "raise"
        self.watching = self.filtering = self.keyed = self.batching = self.judging = False
        self.capture: Stage | None = None
        self.hold: Stage | None = None
        self.carry: deque[Any] | None = None
        self.budget: tuple[int | None, int | None] = (None, None)

    @classmethod
    def standalone(
        cls,
        stats: FlushStats,
        *,
        policy: Policy | None = None,
        executor: Callable[[Intent], Any] = sync_executor,
        order_by: Callable[[Intent], Any] | None = None,
        errors: str = "raise",
        tell: Callable[..., None] | None = None,
        owner: Any = None,
    ) -> FlushContext:
        """A context with no scope behind it: entries are taken as they are (Intents, or records
        that ``to_intent`` turns into Intents of ``owner``), ``tell`` (if given) watches."""
        def intent_of(entry: Any) -> Intent:
            return to_intent(entry, owner)

        def intents_for(entries: list[Any]) -> list[Intent]:
            return [to_intent(entry, owner) for entry in entries]

        ctx = cls(owner, tell or _tell_nobody, intent_of, intents_for, dispatch)
        ctx.stats = stats
        ctx.policy = _ALLOW_ALL if policy is None else policy
        ctx.judging = not is_allow_all(ctx.policy)
        ctx.executor = executor
        ctx.order_by = order_by
        ctx.errors = errors
        ctx.watching = tell is not None
        return ctx

    def fail(self, intent: Intent, exc: BaseException) -> bool:
        """Count ``intent`` as failed and tell the observers; True when the flush goes on
        (errors="continue" and not an interrupt such as KeyboardInterrupt)."""
        stats = self.stats
        stats.failed += 1
        if self.watching:
            self.tell("failed", intent, exc)
        if self.errors == "continue" and isinstance(exc, Exception):
            stats.failures.append((intent, exc))
            logger.error("airlock: %s failed", intent, exc_info=exc)
            return True
        return False

    def fail_or_stop(
        self, intent: Intent, exc: BaseException, rest: Callable[[], list[Any]]
    ) -> int:
        """``fail(intent, exc)``: -1 when the flush goes on; else the flush stops there: ``exc``
        carries what ``rest()`` returns as its undispatched intents (the caller raises it), and
        their number is returned. (The stages' and the dispatch loops' one failure path.)"""
        if self.fail(intent, exc):
            return -1
        left = self.intents_for(rest())
        attach_undispatched(exc, intent, left)
        return len(left)


def _tell_nobody(*event: Any) -> None:
    return None


_ALLOW_ALL = AllowAll()
_NO_STATS = FlushStats()  # replaced before any flush
