"""The inspector's data: an ``airlock.Observer`` that groups what happened into ticks.

Rules:
- Every intent that reaches an outcome — released (dispatched), dropped, coalesced, failed,
  discarded — is recorded once, with its provenance: ``own`` when it was enqueued into the
  tick itself, else ``captured`` with the scope it came from (``intent.scope``, e.g. the
  handler ``Button#save.on_button_pressed``).
- A tick is recorded when it flushes; ticks in which nothing happened are not recorded.
  What the tick's close discards after its last frame (held or late effects) joins the
  last frame's record (``tick_closed``).
- Async failures reported after their tick count toward the tick that is open at the time.
- A tick's ``enqueued`` is its ``stats.enqueued`` (own, posted and captured intents: an
  effect enqueued or posted between its frames counts toward the next tick, where it runs;
  the tick that left it shows it as ``waiting``), plus the intents a handler's scope settled
  before they reached the tick (coalesced or dropped there, or discarded as it raised).
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
        #: intents a handler's scope settled itself (coalesced, dropped, or discarded as its
        #: handler raised): they never reached the tick, whose ``stats.enqueued`` counts the
        #: rest
        self._lost = 0
        self._pending: list[IntentRecord] = []

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
        if not isinstance(scope, TickScope):  # a handler's scope: what it settled itself
            stats = scope.stats  # (coalesced, dropped, discarded) never reached the tick
            self._lost += stats.enqueued - stats.captured
            return
        stats = scope.stats
        if not self._pending and not stats.enqueued:
            return
        enqueued = stats.enqueued + self._lost
        record = TickRecord(scope.frame, enqueued, stats.batched, self._pending, stats.pending)
        self._pending = []
        self._lost = 0
        self.ticks.append(record)
        for listener in list(self.listeners):
            listener(record)

    def tick_closed(self, tick: TickScope) -> None:
        """``tick`` closed: what its close discarded after its last frame (held effects, late
        enqueues; its observers were told ``discarded``) joins that frame's record, which
        is made now if the frame itself left none (its stats count them)."""
        if not self._pending:
            return
        last = self.ticks[-1] if self.ticks else None
        if last is not None and last.frame == tick.frame:
            last.intents += self._pending
            last.enqueued = tick.stats.enqueued + self._lost
            last.pending = 0
            self._pending = []
            self._lost = 0
            return
        self.flushed(tick)
