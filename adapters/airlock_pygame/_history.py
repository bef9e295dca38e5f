"""Frame history: one record per frame, read by the overlay and by end-of-run tables.

Rule: a frame that ended records the tick's ``FlushStats`` for it as they are (the one ledger:
every helper request is one intent of the tick, so ``loop.tick.stats`` and the frame's record
agree, and the record balances like them: ``FrameRecord.balance_error``). So a flush that an
effect aborted (``errors="raise"``) counts what it never ran in ``undispatched``, and the
effects a ``tick.discard()`` dropped count as ``discarded``. ``error`` is the exception that
broke the frame (None when none did), ``failures`` the errors of its failed effects. A frame
whose body raised records the tick's count of them as ``discarded``. Either way
``pending`` is the backlog when the frame ended: ``tick.pending`` (posted — helper requests
made with no frame open included —, carried, enqueued between frames). ``flush_us`` is the
only real-time figure.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import airlock

__all__ = ["COUNTS", "FrameHistory", "FrameRecord", "format_table"]

#: the per-frame counts the overlay and tables show, in display order
COUNTS = ("enqueued", "dispatched", "dropped", "coalesced", "batched", "carried", "failed",
          "pending")

#: where a frame's effects went: with ``enqueued + carried_in``, the ledger (``balance_error``)
_LEFT = ("dispatched", "batched", "dropped", "coalesced", "captured", "discarded", "failed",
         "undispatched", "carried")


@dataclass(frozen=True)
class FrameRecord:
    """What one frame did with its effects."""

    frame: int
    enqueued: int = 0
    dispatched: int = 0
    dropped: int = 0
    coalesced: int = 0
    batched: int = 0
    carried: int = 0
    failed: int = 0
    flush_us: float = 0.0
    error: str | None = None  #: the exception that broke the frame or its flush; None: none
    failures: tuple[str, ...] = ()  #: errors of the frame's failed effects, one each
    pending: int = 0  #: the backlog when the frame ended: effects waiting for the next frame
    discarded: int = 0  #: dropped unrun by ``tick.discard()`` (or a ``should_flush`` saying no)
    undispatched: int = 0  #: never run: the flush was aborted (``errors="raise"``) before them
    carried_in: int = 0  #: left over from the previous frame (a budget, debounce/throttle)
    captured: int = 0  #: handed to an enclosing scope that captured them

    @classmethod
    def from_tick(cls, frame: int, tick: airlock.TickScope,
                  error: BaseException | None) -> FrameRecord:
        """The record of ``tick``'s last frame (see the module rule)."""
        pending = tick.pending
        s = tick.stats
        failures = s.failures
        record = object.__new__(cls)  # the generated __init__ of a frozen dataclass sets each
        record.__dict__.update({  # field through object.__setattr__: 4x the cost, every frame
            "frame": frame, "enqueued": s.enqueued, "dispatched": s.dispatched,
            "dropped": s.dropped, "coalesced": s.coalesced, "batched": s.batched,
            "carried": s.carried,
            "failed": s.failed, "flush_us": s.flush_ns / 1000,
            "error": None if error is None else repr(error),
            "failures": tuple(repr(exc) for _, exc in failures) if failures else (),
            "pending": pending, "discarded": s.discarded, "undispatched": s.undispatched,
            "carried_in": s.carried_in, "captured": s.captured,
        })
        return record

    def balance_error(self) -> str | None:
        """None when every effect that entered the frame left it one way (as ``FlushStats``
        balances), else what is off."""
        entered = self.enqueued + self.carried_in
        left = sum(getattr(self, name) for name in _LEFT)
        if entered == left:
            return None
        parts = ", ".join(f"{name}={getattr(self, name)}" for name in _LEFT)
        return (f"frame {self.frame} out of balance: {entered} entered (enqueued="
                f"{self.enqueued}, carried_in={self.carried_in}) but {left} left ({parts})")

    @property
    def note(self) -> str:
        """The frame's error, else its failed effects' errors (empty when all went well)."""
        return self.error or "; ".join(self.failures)


class FrameHistory:
    """The last ``maxlen`` frame records (all of them when ``maxlen`` is None)."""

    def __init__(self, maxlen: int | None = 600) -> None:
        self._records: deque[FrameRecord] = deque(maxlen=maxlen)

    def append(self, record: FrameRecord) -> None:
        self._records.append(record)

    def last(self, n: int) -> list[FrameRecord]:
        """The most recent ``n`` records, oldest first."""
        records = self._records
        return list(records)[-n:] if n < len(records) else list(records)

    def __iter__(self) -> Iterator[FrameRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, index: int) -> FrameRecord:
        return self._records[index]


def format_table(records: Iterable[FrameRecord], extra: dict[int, dict[str, int]] | None = None,
                 ) -> str:
    """A plain-text table, one row per record; ``extra[frame]`` adds columns (e.g. sounds).

    Numbers are right-aligned; the last column (the frame's error or its failed effects'
    errors, if any) is left as is.
    """
    extra = extra or {}
    extra_cols = list(dict.fromkeys(col for cols in extra.values() for col in cols))
    head = ["frame", *COUNTS, *extra_cols, "flush_us"]
    rows = [([str(r.frame), *(str(getattr(r, c)) for c in COUNTS),
              *(str(extra.get(r.frame, {}).get(c, "")) for c in extra_cols),
              f"{r.flush_us:.0f}"], r.note) for r in records]
    widths = [max([len(h), *(len(cells[i]) for cells, _ in rows)]) for i, h in enumerate(head)]
    lines = [(head, "note"), *rows]
    return "\n".join(
        ("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)) + "  " + note).rstrip()
        for cells, note in lines
    )
