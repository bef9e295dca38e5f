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
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ._intent import Intent
from ._observe import Observer

if TYPE_CHECKING:
    from ._scope import Scope

__all__ = ["OUTCOMES", "Outcome", "RecordedFrame", "RecordedIntent", "Recorder"]

Outcome = Literal["dispatched", "dropped", "failed", "discarded", "coalesced"]
OUTCOMES: tuple[Outcome, ...] = ("dispatched", "dropped", "failed", "discarded", "coalesced")


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
