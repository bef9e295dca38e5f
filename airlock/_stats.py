"""The ledger of a flush: ``FlushStats``, and how an aborted flush records what it left.

Every intent that enters a flush leaves it exactly one way (see ``FlushStats``); the stages
of the pipeline each count what they decide.
"""

from __future__ import annotations

import sys
from typing import Any

from ._intent import Intent, IntentOptions, task_name

__all__ = [
    "FlushStats",
    "annotate",
    "attach_undispatched",
    "effect_label",
]


class FlushStats:
    """Numbers for one flush (for a tick: one frame). Reused in place; ``copy()`` to keep one.

    Every intent that entered a flush left it exactly one way, so the ledger balances::

        enqueued + carried_in == dispatched + batched + dropped + coalesced + captured
                                 + discarded + failed + undispatched + carried

    ``balance_error()`` checks it. A batch effect's N intents that reach the executor as one
    merged call count N - 1 as ``batched`` and the merged call once, as whatever happened to
    it (``dispatched``, ``failed``, ``undispatched`` or ``carried``). ``hook_errors``,
    ``flush_ns``, ``shed`` (a part of ``dropped``), ``held`` (a part of ``carried``) and
    ``pending`` are not part of the ledger.
    """

    __slots__ = (
        "batched",
        "captured",
        "carried",
        "carried_in",
        "coalesced",
        "discarded",
        "dispatched",
        "dropped",
        "enqueued",
        "failed",
        "failures",
        "flush_ns",
        "held",
        "hook_errors",
        "pending",
        "shed",
        "undispatched",
    )

    def __init__(self) -> None:
        self.failures: list[tuple[Intent, BaseException]] = []
        self.reset()

    def reset(self) -> None:
        #: intents in the buffer when the flush began (own, captured, handed over, posted and
        #: waiting from before the frame)
        self.enqueued = 0
        #: intents left over from the previous frame: by a budget (dispatched first in this
        #: one), or held by ``@airlock.debounce``/``@airlock.throttle``
        self.carried_in = 0
        #: intents (or merged batch calls) handed to the executor without error
        self.dispatched = 0
        #: intents refused by a policy (local or scope)
        self.dropped = 0
        #: intents replaced by a later one with the same ``_key``
        self.coalesced = 0
        #: intents handed to an enclosing scope that captured them (they flush with it)
        self.captured = 0
        #: batch intents folded into another call of the same batch effect (N intents of one
        #: batch: N - 1 here, the merged call counted once elsewhere)
        self.batched = 0
        #: intents left for a later frame: released but over a budget, or held by
        #: ``@airlock.debounce``/``@airlock.throttle`` (see ``held``)
        self.carried = 0
        #: intents whose executor (or policy at flush) raised; KeyboardInterrupt too
        self.failed = 0
        #: intents thrown away with their scope (it exited with an error, or discard())
        self.discarded = 0
        #: intents not dispatched because the flush was aborted by an error: those in the
        #: error's ``undispatched_intents``
        self.undispatched = 0
        #: errors raised by observers or ``order_by`` (not by intents): logged once per flush;
        #: under ``errors="raise"`` the first is raised after the flush has accounted for all
        self.hook_errors = 0
        #: of ``dropped``: posts a tick's ``max_pending`` bound shed (``on_full="drop_..."``)
        self.shed = 0
        #: of ``carried``: held tasks waiting for their time as the frame ended
        self.held = 0
        #: a tick's backlog after this frame: what waits for the next frames (posted,
        #: carried, enqueued between frames); for a frame that ran the plain path, as of the
        #: first read of its stats
        self.pending = 0
        #: wall time of the flush in nanoseconds (0 for an empty one). A tick times its
        #: frames from the first read of its ``stats`` on: a loop that never looks pays nothing
        self.flush_ns = 0
        if self.failures:
            self.failures = []

    def balance_error(self) -> str | None:
        """None when the ledger identity (see the class docstring) holds, else what is off."""
        entered = self.enqueued + self.carried_in
        left = sum(getattr(self, name) for name in _LEFT)
        if entered == left:
            return None
        parts = ", ".join(f"{name}={getattr(self, name)}" for name in _LEFT)
        problem = "unaccounted for" if entered > left else "counted twice"
        return (
            f"FlushStats out of balance: {entered} entered (enqueued={self.enqueued}, "
            f"carried_in={self.carried_in}) but {left} left ({parts}); "
            f"{abs(entered - left)} intent(s) {problem}"
        )

    def copy(self) -> FlushStats:
        other = FlushStats()
        for name in FlushStats.__slots__:
            setattr(other, name, getattr(self, name))
        other.failures = list(self.failures)
        return other

    def as_dict(self) -> dict[str, int]:
        return {
            n: getattr(self, n) for n in FlushStats.__slots__ if n != "failures"
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
        return f"FlushStats({fields})"


#: the ledger's outgoing side, in the order ``balance_error`` reports it
_LEFT = (
    "dispatched", "batched", "dropped", "coalesced", "captured", "discarded", "failed",
    "undispatched", "carried",
)


def effect_label(task: Any, options: IntentOptions | None = None) -> str:
    """How an error message names an effect: by its intent name, unless that is private."""
    name = options.name if options is not None and options.name else task_name(task)
    return "an effect" if name.startswith("_") else repr(name)


def attach_undispatched(exc: BaseException, failed: Intent | None, rest: list[Intent]) -> None:
    """Record on ``exc`` which intent failed and which were never dispatched."""
    where = "before dispatch" if failed is None else f"at {failed}"
    annotate(exc, failed, rest, f"airlock: flush aborted {where}; {len(rest)} intent(s) not "
             "dispatched (see .undispatched_intents)")


def annotate(exc: BaseException, failed: Intent | None, rest: list[Intent], note: str) -> None:
    """Set ``failed_intent`` and ``undispatched_intents`` on ``exc`` and add ``note`` (3.11+),
    also on an exception that refuses attribute assignment (a frozen dataclass's): written
    past its ``__setattr__``, so the error that reaches the caller is its own."""
    object.__setattr__(exc, "failed_intent", failed)
    object.__setattr__(exc, "undispatched_intents", rest)
    if sys.version_info >= (3, 11):
        try:
            exc.add_note(note)
        except Exception:  # (its __setattr__ refuses __notes__ too)
            notes = getattr(exc, "__notes__", None)
            object.__setattr__(exc, "__notes__", [*(notes or ()), note])
