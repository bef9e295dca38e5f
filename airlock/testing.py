"""Test helpers: record what each frame (or scope) did with its intents, as plain data.

Pass a ``Recorder`` as an observer and assert on frames afterwards::

    rec = Recorder()
    tick = airlock.tick_scope(observers=[rec])
    ...                                   # run frames 0..20
    assert rec.frames[12].dispatched_names() == ["hit", "send_packets"]
    assert rec.count("hit", frame=12) == 1

Rules:
- ``rec.frames[n]`` is the n-th frame the recorder saw finish (for a tick created with the
  recorder: tick frame n, counted from 0). A frame finishes when the scope reports
  ``flushed`` (ticks do, once per frame).
- Outcomes that happen before that — or in a plain scope, which never reports a frame — go to
  ``rec.current``. ``rec.intents`` and ``rec.count(...)`` without ``frame=`` see every frame
  plus ``rec.current``.
- An intent is recorded once per outcome it reaches: ``dispatched``, ``dropped``, ``failed``,
  ``discarded`` or ``coalesced``. A batch is recorded as the one merged call its handler got.
  Enqueueing alone records nothing: only what the flush did counts.

To see what code enqueued before anything flushes, run it inside an ``EnqueueRecorder``
(the pytest plugin's ``airlock_recorder`` fixture is one)::

    with EnqueueRecorder() as rec:        # a scope whose policy is DropAll()
        checkout(cart)                    # its own scopes are captured by rec's
        assert rec.names() == ["charge", "send_receipt"]   # outcome "waiting"
    assert rec.names("dropped") == ["charge", "send_receipt"]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

from ._intent import Intent
from ._observe import Observer
from ._policies import DropAll, Policy
from ._scope import Scope

__all__ = [
    "OUTCOMES",
    "EnqueueRecorder",
    "Outcome",
    "RecordedFrame",
    "RecordedIntent",
    "Recorder",
]

#: what happened to an intent; ``waiting``: enqueued, its scope has not flushed yet
Outcome = Literal["dispatched", "dropped", "failed", "discarded", "coalesced", "waiting"]
OUTCOMES: tuple[Outcome, ...] = (
    "dispatched", "dropped", "failed", "discarded", "coalesced", "waiting"
)


@dataclass(frozen=True)
class RecordedIntent:
    """One intent and what happened to it. ``error`` is set only when ``outcome == 'failed'``."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    outcome: Outcome
    key: object = None
    error: BaseException | None = None

    @classmethod
    def of(
        cls, intent: Intent, outcome: Outcome, error: BaseException | None = None
    ) -> RecordedIntent:
        return cls(intent.name, intent.args, dict(intent.kwargs), outcome, intent.key, error)

    def __str__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)}) -> {self.outcome}"


def _check_outcome(outcome: str | None) -> None:
    if outcome is not None and outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)} or None")


@dataclass
class RecordedFrame:
    """The intents one frame settled, in the order their outcomes happened."""

    number: int
    intents: list[RecordedIntent] = field(default_factory=list)
    #: ``scope.stats.as_dict()`` at the end of the frame (empty while the frame is open)
    stats: dict[str, int] = field(default_factory=dict)

    def select(self, outcome: str | None = "dispatched") -> list[RecordedIntent]:
        """Recorded intents with ``outcome`` (``None``: all of them)."""
        _check_outcome(outcome)
        return [r for r in self.intents if outcome is None or r.outcome == outcome]

    def names(self, outcome: str | None = "dispatched") -> list[str]:
        """Names of the intents with ``outcome`` (``None``: any), in order."""
        return [r.name for r in self.select(outcome)]

    def dispatched_names(self) -> list[str]:
        """Names of the intents the executor took, in dispatch order."""
        return self.names("dispatched")

    def count(self, name: str, outcome: str | None = "dispatched") -> int:
        """How many intents called ``name`` reached ``outcome`` (``None``: any) in this frame."""
        return sum(1 for r in self.select(outcome) if r.name == name)

    def __iter__(self) -> Iterator[RecordedIntent]:
        return iter(self.intents)

    def __len__(self) -> int:
        return len(self.intents)


class Recorder(Observer):
    """An observer that keeps each frame's intents as ``RecordedIntent`` data (see module doc)."""

    def __init__(self) -> None:
        self.frames: list[RecordedFrame] = []
        self.current = RecordedFrame(0)

    def _record(self, intent: Intent, outcome: Outcome, error: BaseException | None = None) -> None:
        self.current.intents.append(RecordedIntent.of(intent, outcome, error))

    # -- Observer hooks --------------------------------------------------------------------

    def coalesced(self, intent: Intent) -> None:
        self._record(intent, "coalesced")

    def dropped(self, intent: Intent) -> None:
        self._record(intent, "dropped")

    def dispatched(self, intent: Intent) -> None:
        self._record(intent, "dispatched")

    def failed(self, intent: Intent, error: BaseException) -> None:
        self._record(intent, "failed", error)

    def discarded(self, intent: Intent) -> None:
        self._record(intent, "discarded")

    def flushed(self, scope: Scope) -> None:
        """Close the current frame (with a copy of the scope's stats) and open the next."""
        frame = self.current
        frame.stats = scope.stats.as_dict()
        self.frames.append(frame)
        self.current = RecordedFrame(len(self.frames))

    # -- queries ---------------------------------------------------------------------------

    def frame(self, number: int) -> RecordedFrame:
        """Frame ``number``; raises ``IndexError`` naming how many frames were recorded."""
        if not 0 <= number < len(self.frames):
            raise IndexError(
                f"frame {number} was not recorded; {len(self.frames)} frame(s) finished "
                "(unfinished outcomes are in rec.current)"
            )
        return self.frames[number]

    @property
    def intents(self) -> list[RecordedIntent]:
        """Every recorded intent, over all finished frames and then ``current``."""
        return [r for f in (*self.frames, self.current) for r in f.intents]

    def names(self, outcome: str | None = "dispatched", *, frame: int | None = None) -> list[str]:
        """Names with ``outcome`` in frame ``frame`` (``None``: everywhere), in order."""
        if frame is not None:
            return self.frame(frame).names(outcome)
        return RecordedFrame(-1, self.intents).names(outcome)

    def dispatched_names(self, *, frame: int | None = None) -> list[str]:
        """Names the executor took, in frame ``frame`` or everywhere."""
        return self.names("dispatched", frame=frame)

    def count(
        self, name: str, *, frame: int | None = None, outcome: str | None = "dispatched"
    ) -> int:
        """How many ``name`` intents reached ``outcome`` in frame ``frame`` (``None``: anywhere)."""
        if frame is not None:
            return self.frame(frame).count(name, outcome)
        return RecordedFrame(-1, self.intents).count(name, outcome)

    def clear(self) -> None:
        """Forget everything recorded; frame numbering restarts at 0."""
        self.frames.clear()
        self.current = RecordedFrame(0)

    def __repr__(self) -> str:
        return f"<Recorder frames={len(self.frames)} current={len(self.current)}>"


class EnqueueRecorder:
    """A scope that shows what the code run inside it enqueued, as ``RecordedIntent`` data.

    Rules:
    - ``with EnqueueRecorder(policy) as rec:`` opens an ``airlock.Scope`` with ``policy``
      (``DropAll()`` when none is given: record, run nothing) and a ``Recorder`` observer. Its
      class is always ``airlock.Scope``, whatever ``configure(scope_cls=...)`` says.
    - Scopes the code opens inside it, ticks included, are captured by it (the nesting rules),
      so while it is open ``rec.intents`` is everything enqueued so far, own and captured, in
      arrival order, each with outcome ``"waiting"``. An inner scope hands its intents over
      when it ends: what waits in a scope still open (a ``with airlock.scope():`` block the
      check runs in, a tick's open frame) is not listed yet.
    - When the block ends the scope flushes under its policy (or discards its intents, on an
      exception); from then on ``rec.intents`` is what that flush did to each one
      (``rec.outcomes`` is the ``Recorder``). A recorder is used once.
    """

    __slots__ = ("_scope", "outcomes", "policy")

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy: Policy = DropAll() if policy is None else policy
        self.outcomes = Recorder()
        self._scope: Scope | None = None

    @property
    def scope(self) -> Scope:
        """The recorder's scope (it exists once the recorder has been entered)."""
        if self._scope is None:
            raise RuntimeError(
                "this EnqueueRecorder has not been entered yet: use it as "
                "'with EnqueueRecorder() as rec:' (the pytest fixture airlock_recorder opens it "
                "when the test function starts, not during fixture setup)"
            )
        return self._scope

    @property
    def is_open(self) -> bool:
        """True from entering the recorder until its scope has flushed."""
        return self._scope is not None and self._scope.is_active

    def __enter__(self) -> EnqueueRecorder:
        if self._scope is not None:
            raise RuntimeError("an EnqueueRecorder is used once; create a new one")
        self._scope = Scope(self.policy, observers=[self.outcomes])
        self._scope.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.scope.__exit__(exc_type, exc, tb)

    @property
    def intents(self) -> list[RecordedIntent]:
        """While open: every intent enqueued so far (``waiting``); afterwards: their outcomes."""
        if self.is_open:
            return [RecordedIntent.of(intent, "waiting") for intent in self.scope.intents]
        return self.outcomes.intents

    def names(self, outcome: str | None = None) -> list[str]:
        """Names of the recorded intents with ``outcome`` (``None``: any), in order."""
        return RecordedFrame(-1, self.intents).names(outcome)

    def count(self, name: str, outcome: str | None = None) -> int:
        """How many recorded intents called ``name`` have ``outcome`` (``None``: any)."""
        return RecordedFrame(-1, self.intents).count(name, outcome)

    def __iter__(self) -> Iterator[RecordedIntent]:
        return iter(self.intents)

    def __len__(self) -> int:
        return len(self.intents)

    def __repr__(self) -> str:
        state = "open" if self.is_open else "unopened" if self._scope is None else "flushed"
        return f"<EnqueueRecorder {state} policy={self.policy!r} intents={len(self)}>"
