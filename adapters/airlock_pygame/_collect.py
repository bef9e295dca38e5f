"""A GameLoop frame's requests, collected per helper: ONE effect per helper per frame.

Rules:
- While a ``GameLoop`` frame is open and its tick is the current enqueue target (not inside a
  nested scope or an ``airlock.policy`` block), the first request of a helper (a ``Redraw``,
  ``SoundPlayer`` or ``NetSender``; its ``ui=True`` requests apart) enqueues ONE effect into
  the tick, in the helper's phase (``ui``: with ``_dispatch_options={"ui": True}``), and the
  frame's later requests join that effect's collection. The effect is what the tick's
  policies judge, what it orders by phase and what ``tick.stats`` counts; the frame's
  ``FrameRecord`` counts requests as if each had been enqueued on its own
  (``request_counts``).
- Anywhere else (no GameLoop frame, a nested scope, a policy block, a loop whose tick has a
  budget, observers, ``errors="raise"`` or a policy the game set on it, the frame's own flush,
  another thread) each request is one keyed/batched ``airlock.enqueue``, as documented for
  plain scopes.
- A collection closes just before its frame's flush (and when its effect runs), so the
  frame's code never adds to a collection already handed over; the next request begins anew.
  A helper's open collections are kept per thread (``OpenCollections``): another thread (even
  one running a copy of the frame's context) never sees them, so it cannot add to one in the
  instant it is handed over.

A request reads its helper's open collections (a thread-local) and the enqueue target
(``airlock.get_enqueue_target``: one ``ContextVar.get``, and it tells an ``airlock.policy``
block from its scope, which ``airlock.get_current_scope`` does not).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from threading import get_ident
from typing import Any

import airlock

__all__ = ["CLOSED", "GONE", "Collection", "FrameLedger", "FrameTask", "Keyed", "OpenCollections",
           "Pair", "close_ledger", "current_target_of", "ledger_for", "open_ledger",
           "request_counts"]

#: the current enqueue target (a scope, a policy view, or a "no scope" marker)
current_target_of: Callable[[], Any] = airlock.get_enqueue_target

_UI: dict[str, Any] = {"ui": True}


class Collection:
    """One helper's requests of one frame (ui or not), and what became of its effect.

    ``items`` is a list of the frame's requests in order; a request replaced by a later one
    (same key) stays in it as ``GONE`` and is counted in ``coalesced``. ``ran`` is set when
    the effect runs.
    """

    __slots__ = ("coalesced", "items", "ledger", "ran", "target")

    def __init__(self, target: Any, items: Any) -> None:
        self.target = target
        self.items = items
        self.coalesced = 0
        self.ran = False
        self.ledger: FrameLedger | None = None

    @property
    def requests(self) -> int:
        return len(self.items)

    @property
    def survivors(self) -> int:
        """Requests that reach the handler (every request not coalesced)."""
        return len(self.items) - self.coalesced

    def alive(self) -> list[Any]:
        """The requests not replaced by a later one, in order."""
        items: list[Any] = self.items
        return [item for item in items if item is not GONE] if self.coalesced else items


class Keyed(Collection):
    """A collection whose ``items`` is a dict: a later request under a key replaces the
    earlier one (removed, and moved to the end, as ``_key`` coalescing does)."""

    __slots__ = ()

    @property
    def requests(self) -> int:
        return len(self.items) + self.coalesced

    @property
    def survivors(self) -> int:
        return len(self.items)


class _Gone:
    __slots__ = ()

    def __repr__(self) -> str:
        return "GONE"


#: a request replaced by a later one with the same key
GONE = _Gone()

#: matches no enqueue target: every helper starts with it, and goes back to it
CLOSED = Collection(None, [])


class FrameTask:
    """The effect a collection enqueues: ``run(collection)``, named after the helper's public
    handler and in its phase. A collection whose requests all coalesced into the helper's
    other collection runs nothing.
    """

    __slots__ = ("__name__", "__qualname__", "airlock_phase", "run")

    def __init__(self, run: Callable[[Any], Any], name: str, phase: str) -> None:
        self.run = run
        self.airlock_phase = phase
        self.__name__ = self.__qualname__ = name

    def __call__(self, collection: Collection) -> None:
        collection.target = None
        collection.ran = True
        if collection.survivors:
            self.run(collection)

    def __repr__(self) -> str:
        return f"<frame effect {self.__name__}>"


class Pair:
    """A helper's open collections in one context: its gameplay requests and its ui ones."""

    __slots__ = ("gameplay", "ui")

    def __init__(self, gameplay: Collection, ui: Collection) -> None:
        self.gameplay = gameplay
        self.ui = ui


_NONE_OPEN = Pair(CLOSED, CLOSED)


class _ThreadPair(threading.local):
    pair: Pair = _NONE_OPEN  # every thread starts with none open


class OpenCollections:
    """Where a helper keeps its open collections: per thread (a ``threading.local``, not a
    ``ContextVar``: a context copied into another thread, as ``asyncio.to_thread`` and
    ``contextvars.copy_context().run`` do, would carry the frame's open collection there),
    so a request made in another thread never joins, nor races, the collection this thread's
    frame hands over; that thread's requests are enqueued one by one (the core takes them)."""

    __slots__ = ("local",)

    def __init__(self, helper: object) -> None:
        #: ``local.pair``: this thread's ``Pair`` (requests read it every time: keep a
        #: reference to ``local`` and read ``.pair``, the cheapest per-thread lookup)
        self.local = _ThreadPair()

    def begin(self, ledger: FrameLedger, collection: Collection, task: FrameTask,
              ui: bool) -> Collection:
        """Enqueue ``task`` for ``collection`` and make it this thread's open one."""
        ledger.begin(collection, task, ui)
        local = self.local
        pair = local.pair
        local.pair = Pair(pair.gameplay, collection) if ui else Pair(collection, pair.ui)
        return collection


class FrameLedger:
    """The collections begun in one GameLoop frame, for its record; closed before the flush.

    Only the frame's own thread begins collections (another thread that made the tick its
    current scope enqueues one by one, as the core takes appends from any thread).
    """

    __slots__ = ("collections", "target", "thread")

    def __init__(self, target: Any) -> None:
        self.target = target
        self.thread = get_ident()
        self.collections: list[Collection] = []

    def begin(self, collection: Collection, task: FrameTask, ui: bool) -> Collection:
        """Enqueue ``task`` for ``collection`` into the frame's tick; return the collection."""
        if ui:
            airlock.enqueue(task, collection, _dispatch_options=_UI)
        else:
            airlock.enqueue(task, collection)
        collection.ledger = self
        self.collections.append(collection)
        return collection

    def close(self) -> None:
        for collection in self.collections:
            collection.target = None


_open: dict[int, FrameLedger] = {}  # id(tick) -> the ledger of its open GameLoop frame


def ledger_for(target: Any) -> FrameLedger | None:
    """The open frame ledger whose tick is ``target`` (None: enqueue each request alone)."""
    ledger = _open.get(id(target))
    if ledger is None or ledger.target is not target or ledger.thread != get_ident():
        return None
    return ledger


def open_ledger(tick: airlock.TickScope) -> FrameLedger:
    """Collect requests for ``tick``'s frame, which this thread just opened."""
    ledger = _open[id(tick)] = FrameLedger(tick)
    return ledger


def close_ledger(tick: airlock.TickScope) -> FrameLedger | None:
    """Stop collecting for ``tick``'s frame; return its ledger (None if it was not collecting)."""
    ledger = _open.pop(id(tick), None)
    if ledger is not None:
        ledger.close()
    return ledger


def request_counts(ledger: FrameLedger | None) -> tuple[int, int, int, int, int] | None:
    """What to add to a flushed frame's ``tick.stats`` to count its collected requests:
    (enqueued, dispatched, dropped, coalesced, batched); None when nothing was collected.

    As if each request had been a keyed/batched enqueue of its own: every request was
    enqueued; the replaced ones coalesced; the survivors of an effect that ran were folded into
    one call (``batched``: all but one), those of an effect that did not run were dropped
    (a collecting tick has no budget, so a policy refused it). An effect whose requests all
    coalesced into the helper's other collection is not counted at all.
    """
    if ledger is None:
        return None
    enqueued = dispatched = dropped = coalesced = batched = 0
    for collection in ledger.collections:
        requests, survivors = collection.requests, collection.survivors
        if requests == 1 == survivors:  # one request, one effect: the tick counted it right
            continue
        enqueued += requests - 1
        coalesced += collection.coalesced
        if not survivors:  # the tick counted an effect the requests would not have made
            if collection.ran:
                dispatched -= 1
            else:
                dropped -= 1
        elif collection.ran:
            batched += survivors - 1
        else:
            dropped += survivors - 1
    if not (enqueued or dispatched or dropped or coalesced or batched):
        return None
    return enqueued, dispatched, dropped, coalesced, batched
