"""Batch effects: every enqueue of one batch in a flush reaches its handler as ONE call."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from ._intent import Intent, task_name
from ._record import DISPATCH_OPTIONS, ORIGIN, SCOPE

if TYPE_CHECKING:
    from ._flush import FlushContext

__all__ = ["Batch", "Gathered", "batch", "fold", "gather", "merge_batches", "merged"]


class Batch:
    """A batch effect. ``airlock.enqueue(b, payload)`` N times -> ``handler([p1, ..., pN])`` once.

    A payload is the single positional argument of the enqueue, or the tuple of them when
    there are several. The merged call runs where the *last* enqueue of the batch stood, under
    the ``_dispatch_options`` of that last enqueue; each enqueue is filtered by policies on
    its own before merging. A batch is deliberately not callable: it only runs through a flush
    (call ``b.handler([payload])`` to run it directly).

    One bad payload: the handler gets them all in one call, so if it raises, that one merged
    call fails as a whole (``stats.failed`` 1, the other intents ``batched``; under
    ``errors="continue"`` logged and listed in ``stats.failures``), and nothing is retried.
    To keep the good payloads going out, refuse a bad one before enqueueing it, or have the
    handler skip it, send the rest, then raise naming it (as the pygame adapter's
    ``NetSender`` does).
    """

    __slots__ = ("__name__", "__qualname__", "airlock_phase", "handler")

    def __init__(self, handler: Callable[[list[Any]], Any], *, phase: str | None = None) -> None:
        if not callable(handler):
            raise TypeError(f"batch handler must be callable, got {handler!r}")
        self.handler = handler
        self.airlock_phase = phase
        self.__name__ = task_name(handler)
        self.__qualname__ = self.__name__

    def check_payload(self, kwargs: dict[str, Any]) -> None:
        """Refuse keyword arguments at enqueue: a payload is positional."""
        if kwargs:
            raise TypeError(
                f"batch effect {self.__name__} takes positional payloads only, got keywords "
                f"{sorted(kwargs)}; pass them as one positional value (e.g. a tuple)"
            )

    def __repr__(self) -> str:
        return f"<batch {self.__name__}>"


@overload
def batch(handler: Callable[[list[Any]], Any], /, *, phase: str | None = None) -> Batch: ...
@overload
def batch(*, phase: str | None = None) -> Callable[[Callable[[list[Any]], Any]], Batch]: ...
def batch(
    handler: Callable[[list[Any]], Any] | None = None, /, *, phase: str | None = None
) -> Batch | Callable[[Callable[[list[Any]], Any]], Batch]:
    """Declare a batch effect: ``@airlock.batch`` or ``@airlock.batch(phase="network")``."""
    if handler is None:
        return lambda fn: Batch(fn, phase=phase)
    return Batch(handler, phase=phase)


def merge_batches(entries: list[Any], ctx: FlushContext) -> list[Any]:
    """Stage 6 of a flush: fold each batch's entries into one call at its last one's position
    (as an Intent if that last one was, else as a record); the folded count as ``batched``."""
    gathered = gather(entries)
    if gathered is None:
        return entries
    folded = fold(entries, gathered)
    ctx.stats.batched = len(entries) - len(folded)
    return merged(folded, gathered)


class Gathered(NamedTuple):
    """A flush's batches, as ``gather`` finds them."""

    #: each batch's payloads, in entry order
    payloads: dict[Batch, list[Any]]
    #: each batch's last entry: where its merged call goes, and whose options it takes
    last: dict[Batch, Any]
    #: some batch entry names its own phase (``_dispatch_options={"phase": ...}``)
    phased: bool


def gather(entries: list[Any]) -> Gathered | None:
    """Each batch's payloads and last entry, or None when no entry is a batch's."""
    payloads: dict[Batch, list[Any]] = {}
    last: dict[Batch, Any] = {}
    phased = False
    for entry in entries:
        task = entry[0]
        if type(task) is Batch:
            args = entry[1]
            payload = args[0] if len(args) == 1 else args
            folded = payloads.get(task)
            if folded is None:
                payloads[task] = [payload]
            else:
                folded.append(payload)
            last[task] = entry
            options = entry[DISPATCH_OPTIONS]  # (a batch entry is always a full record)
            if options is not None and "phase" in options:
                phased = True
    return Gathered(payloads, last, phased) if payloads else None


def fold(entries: list[Any], gathered: Gathered) -> list[Any]:
    """``entries`` with each batch's entries but its last left out: that last one stands for
    the batch's merged call (``merged`` makes it)."""
    last = gathered.last
    folded: list[Any] = []
    keep = folded.append
    for entry in entries:
        task = entry[0]
        if type(task) is not Batch or last[task] is entry:
            keep(entry)
    return folded


def merged(entries: list[Any], gathered: Gathered) -> list[Any]:
    """``entries`` (folded) with each batch's last entry replaced by the batch's merged
    call."""
    payloads = gathered.payloads
    return [
        _merged_call(entry[0], payloads[entry[0]], entry) if type(entry[0]) is Batch else entry
        for entry in entries
    ]


def _merged_call(batch: Batch, payloads: list[Any], last: Any) -> Any:
    """The one call of ``batch`` with every payload, under its last entry's options."""
    # a batch entry is always a full record (a Batch is not callable: never a plain one)
    record: tuple[Any, ...] = (
        batch.handler, (payloads,), {}, batch.__name__, last[DISPATCH_OPTIONS], last[ORIGIN],
        None, (), last[SCOPE],
    )
    return record if type(last) is tuple else Intent(*record)
