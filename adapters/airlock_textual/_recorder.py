"""The inspector's data: an ``airlock.Observer`` that groups what happened into ticks.

Rules:
- Every intent that reaches an outcome — released (dispatched), dropped, coalesced, failed,
  discarded — is recorded once, with its provenance: ``own`` when it was enqueued into the
  tick itself, else ``captured`` with the scope it came from (``intent.scope``, e.g. the
  handler ``Button#save.on_button_pressed``).
- A tick is recorded when it flushes; ticks in which nothing happened are not recorded.
- Async failures reported after their tick count toward the tick that is open at the time.
- An effect enqueued into the tick between its frames (by an effect of the flush, or a thread)
  counts toward the next tick, where it runs (as in the tick's ``stats``); the tick that left
  it shows it as ``waiting``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from airlock import Intent, Observer, Scope, TickScope

__all__ = ["EffectRecorder", "IntentRecord", "TickRecord"]

OUTCOMES = ("released", "dropped", "coalesced", "failed", "discarded")


@dataclass(frozen=True)
class IntentRecord:
    """One intent's fate in a tick."""

    outcome: str
    text: str
    provenance: str
    source: str

    @classmethod
    def of(cls, outcome: str, intent: Intent) -> IntentRecord:
        scope = intent.scope
        own = scope is None or isinstance(scope, TickScope)
        label = getattr(scope, "label", None) or repr(scope)
        return cls(outcome, str(intent), "own" if own else "captured", "tick" if own else label)


@dataclass
class TickRecord:
    """What one tick did: counts per outcome and the intents behind them."""

    frame: int
    enqueued: int = 0
    #: enqueues of batch effects folded into another call of the same batch
    batched: int = 0
    intents: list[IntentRecord] = field(default_factory=list)
    #: the backlog the tick left: effects waiting for the next tick (``stats.pending``)
    pending: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for record in self.intents if record.outcome == outcome)

    @property
    def released(self) -> int:
        return self.count("released")


class EffectRecorder(Observer):
    """Collects ``TickRecord``s (the last ``history``) and tells ``listeners`` about each."""

    def __init__(self, history: int = 200) -> None:
        self.ticks: deque[TickRecord] = deque(maxlen=history)
        self.listeners: list[Callable[[TickRecord], None]] = []
        self._enqueued = 0
        self._pending: list[IntentRecord] = []

    def enqueued(self, intent: Intent) -> None:
        scope = intent.scope
        # between frames: the next tick's ``stats.enqueued`` counts it
        if not isinstance(scope, TickScope) or scope.is_active:
            self._enqueued += 1

    def coalesced(self, intent: Intent) -> None:
        self._pending.append(IntentRecord.of("coalesced", intent))

    def dropped(self, intent: Intent) -> None:
        self._pending.append(IntentRecord.of("dropped", intent))

    def dispatched(self, intent: Intent) -> None:
        self._pending.append(IntentRecord.of("released", intent))

    def failed(self, intent: Intent, error: BaseException) -> None:
        self._pending.append(IntentRecord.of("failed", intent))

    def discarded(self, intent: Intent) -> None:
        self._pending.append(IntentRecord.of("discarded", intent))

    def flushed(self, scope: Scope) -> None:
        if not isinstance(scope, TickScope):
            return
        if not self._pending and not self._enqueued:
            return
        stats = scope.stats
        enqueued = max(self._enqueued, stats.enqueued)
        record = TickRecord(scope.frame, enqueued, stats.batched, self._pending, stats.pending)
        self._pending = []
        self._enqueued = 0
        self.ticks.append(record)
        for listener in list(self.listeners):
            listener(record)
