"""A scope's buffer: its entries in arrival order, whose scope each plain record is, and
the feature flags its flush reads.

Rule: a ``Buffer`` is a list of entries (see ``_record``: plain records and full ones, bare
or named Intents) and the only writer of its flags. Each flag turns on before the entry that
needs it is appended (a plain run in another thread then stops at that entry, see
``_plain.run_plain``) and stays on until the buffer is rescanned or dropped:

- ``rich``: something other than a plain record may be in it, or the scope asked for the
  general flush (``force_general``); False lets a flush be a plain loop;
- ``keyed``, ``batching``, ``holding``, ``filtering``: some entry has a ``_key``, a batch
  task, a held (``@debounce``/``@throttle``) task, local policies that judge: the flush runs
  the coalesce, merge, hold or local-filter stage.

A plain record names no scope: it is the owner's unless the origin marks say otherwise.
``origins`` is None or a list of ``(index, scope)`` marks in index order: plain records from
``index`` on were enqueued into ``scope`` (None: the owner), up to the next mark; a capture
from a descendant writes them, turning records into full records or Intents spends them. An
entry is only ever replaced by the Intent built from it, so once materialized its identity is
stable. Each method reads the entries present when it starts (another thread may append
meanwhile) and works in place: a tick's frame closures hold the buffer, never rebound.

The marks are exact on one thread; under captures and appends racing on other threads (the
pure core: the kernel captures in C) they are best effort. A capture's start is read before
its entries land, ``records`` spends marks a later capture added, two captures that both
found no marks publish one list each: a captured record may be attributed to the wrong
scope (its ``intent.scope``, ``own_intents``/``captured_intents``), never lost or repeated.

Entries only move when some are removed before others (``take``, ``drop``, ``cut``, a frame
opening after a kept one). Such a removal, and any write of an entry by index
(``materialize``, ``intents_for``: ``intents`` read from any thread), holds the shift token
(``SHIFT_TOKEN``) for a few list operations (only a removed entry's finalizer may run then).
A removal from the front counts itself in ``removed``: a thread that read indices before
taking the token subtracts what was removed since, and writes only over the very entry it
read (by identity). Appends never move an entry.

An enqueue appends only while its scope accepts, and reads that last: after the entry is
built and whatever it ran (a key's ``__hash__``, hooks, a collection's finalizers), with
nothing between the read and the ``append`` at which CPython lets another thread run: no call
(3.11+: none but the append), no allocation (before 3.12 one may collect), and, for 3.10, no
taken jump (the accepted path falls through its ``if``; flags are or-ed in with ``|=``). A
scope's end stops accepting before its flush reads the entries, so an enqueue it races either
lands in that flush or is refused at its call, never left in a buffer no flush reads
(``add_keyed``, ``add_batched``, ``capture``, ``_enqueue``, ``_entry``; the kernel's appends
read it the same way: keep them in sync).

No wait for the token is endless: code of the holder's own thread (a signal handler, a
removed entry's finalizer) cannot wait for it. Naming then names nothing in place; a removal
at a frame's end is left to the next frame (``take_now``); any other removal raises
``ScopeStateError`` after ``REMOVAL_PATIENCE`` (``take_for_removal``), its frame unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import islice, pairwise
from typing import Any

from ._batch import Batch
from ._cadence import Cadence
from ._errors import ScopeStateError
from ._intent import Intent
from ._policies import any_judges
from ._record import KEY, LOCAL_POLICIES, PLAIN, SCOPE, TASK, to_intent
from ._states import ACTIVE

__all__ = [
    "SHIFT_TOKEN", "Buffer", "owned", "take_for_removal", "wait_for_token", "wait_until_movable",
]

Origins = list[tuple[int, Any]] | None

#: The shift token (see the module rule): one True while no thread moves entries or writes
#: them by index. A thread takes it with ``pop()`` (one atomic call) for a few list operations
#: and puts it back. Not a lock: ``with lock:`` costs a frame more than the work it guards.
#: One for all buffers (under the GIL they would take turns anyway).
SHIFT_TOKEN: list[bool] = [True]
take_token, put_token = SHIFT_TOKEN.pop, SHIFT_TOKEN.append
#: how long naming waits for the token (s) before it names nothing in place: another thread
#: holds it for a few list operations; only code of the holder's own thread (a finalizer of
#: a removed entry, a signal handler) reading ``intents`` meanwhile waits that long
NAMING_PATIENCE = 0.1
#: how long a removal waits for the token (s) before it raises: another thread holds it for a
#: few list operations; longer means the holder is this thread, interrupted (``take_for_removal``)
REMOVAL_PATIENCE = 2.0


def wait_for_token(patience: float) -> bool:
    """Take the shift token: now, or once no other thread has it; False, without it, if
    ``patience`` seconds pass first (no wait is endless: see the rule)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            take_token()
            return True
        except IndexError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0)  # (lets the holder's thread run)


def take_for_removal() -> None:
    """Take the shift token to move entries: now, or once the thread that holds it lets go;
    raise ``ScopeStateError`` if it never does. (``Buffer.take`` tries ``take_token()`` inline
    first, the compiled kernel's ``take_head`` too: this is their slow path.)"""
    if not wait_for_token(REMOVAL_PATIENCE):
        raise ScopeStateError(
            f"airlock could not move a tick's entries: the shift token was not given back "
            f"within {REMOVAL_PATIENCE} s. Code that interrupted this thread while it read a "
            "tick's intents (a signal handler, a finalizer) ran a frame, discarded or closed a "
            "tick, and the interrupted code cannot go on until it returns. Nothing was removed "
            "and no frame opened; from a signal handler, hand effects to the tick with "
            "tick.post() and let the main loop run its frames"
        )


def wait_until_movable() -> None:
    """Return once the shift token is free, or raise as ``take_for_removal`` does: before work
    that must not stop halfway to its removal (a discard that tells observers first)."""
    take_for_removal()
    put_token(True)


class Buffer(list[Any]):
    """A scope's entries, origin marks and feature flags (see the module's rule)."""

    __slots__ = ("batching", "filtering", "holding", "keyed", "origins", "removed", "rich")

    def __init__(self) -> None:  # empty, every flag off
        self.rich = self.keyed = self.batching = self.holding = self.filtering = False
        self.origins: Origins = None
        #: how many entries were ever removed from the front (see the module rule)
        self.removed = 0

    # -- appending (``append`` itself takes a plain record: no flag) --------------------------

    def add_keyed(self, record: tuple[Any, ...]) -> bool:
        """Append the full record of a keyed enqueue (``enqueue``'s fast path), unless its
        scope stopped accepting meanwhile (False: nothing appended)."""
        if record[SCOPE]._accepting:  # read last (the module's rule)
            self.keyed = self.rich = True
            self.append(record)
            return True
        return False

    def add_batched(self, record: tuple[Any, ...]) -> bool:
        """Append the full record of a batch's payload, keyed or not (``enqueue``'s fast
        path), unless its scope stopped accepting meanwhile (False: nothing appended)."""
        keyed = record[KEY] is not None
        if record[SCOPE]._accepting:  # read last (the module's rule)
            self.keyed |= keyed
            self.batching = self.rich = True
            self.append(record)
            return True
        return False

    def add(self, entry: Any, judged: bool) -> None:
        """Append an entry that is not a plain record (a full record or an Intent), turning
        on first what its flush needs (``note``)."""
        self.note(entry, judged)
        self.append(entry)

    def note(self, entry: Any, judged: bool) -> None:
        """Turn on what ``entry`` (not a plain record) needs, before it is appended.
        ``judged``: its local policies filter (the caller knows; a policy view says once for
        all its enqueues). (``_enqueue`` inlines this where an enqueue has options or local
        policies: keep them in sync.)"""
        task = entry[TASK]
        if entry[KEY] is not None:
            self.keyed = True
        if type(task) is Batch:
            self.batching = True
        elif type(task) is Cadence:
            self.holding = True
        if judged:
            self.filtering = True
        self.rich = True

    def capture(self, entries: list[Any], child: Any, plain: bool, owner: Any = None) -> bool:
        """Take a descendant's entries: ``child``'s plain records get a mark, its flags carry
        over (``plain``: every entry is a plain record, so the flags stay as they are).

        ``owner``: the scope whose buffer this is (None: unchecked). Whether it still captures
        (a tick until it is closed, a scope while active) is read last, as an enqueue reads
        whether its scope accepts (the module's rule); False, with nothing taken, once it does
        not. Everything is made before that read; after it, only in-place writes (``+=``,
        ``|=``: no call, no jump)."""
        theirs = child._buffer
        # (read once, before the copy: an ``intents`` reader naming the child's records
        # meanwhile spends them, and its Intents carry their scopes themselves)
        inner = theirs.origins
        if type(entries) is not list:  # (``+=`` would iterate a Buffer, making an iterator)
            entries = entries[:]
        origins = self.origins  # (read once: another thread may set it to None meanwhile)
        if origins is None:
            origins = []
        start = len(self)
        last = origins[-1] if origins else None
        first = (start, child)
        # the last capture's end where this one starts: a burst of captures keeps one mark each
        merged = last is not None and last[0] == start and last[1] is None
        marks = [] if merged else [first]
        if inner:  # only when ``entries`` is the child's whole plain buffer
            marks.extend(
                (start + index, child if marked is None else marked) for index, marked in inner
            )
        marks.append((start + len(entries), None))  # where the owner's own records resume
        if merged:  # (before the read below: put back if refused)
            origins[-1] = first
        # published before the read below: the store may free a list another capture made
        # meanwhile, and with it what only its marks held (a finalizer: Python code)
        self.origins = origins
        # Whether ``owner`` captures (``owner._captures_descendants()``, inlined: keep in sync
        # with Scope's and TickScope's) is read last, in each branch (the module's rule): the
        # accepted path falls through to the writes, which are in-place (``+=``, ``|=``)
        if plain:
            if owner is None or (
                not owner._closed if owner._across_frames else owner._state is ACTIVE
            ):
                origins += marks  # (no call between this and the entries: both land, or neither)
                self += entries
                return True
        elif owner is None or (
            not owner._closed if owner._across_frames else owner._state is ACTIVE
        ):
            origins += marks
            self.keyed |= theirs.keyed  # the descendant's flags join the ones on now
            self.batching |= theirs.batching
            self.holding |= theirs.holding
            self.filtering |= theirs.filtering
            self.rich = True  # before the entries: a plain run must stop at them
            self += entries
            return True
        if merged and last is not None:
            origins[-1] = last
        return False

    # -- flags -------------------------------------------------------------------------------

    def force_general(self, holding: bool) -> None:
        """Make the next flush take the general path (and the hold stage: ``holding``),
        whatever the entries are: after failures, a release, a plain run cut short."""
        self.rich = True
        if holding:
            self.holding = True

    def rescan(self, start: int) -> None:
        """Recompute ``rich`` from the entries from ``start`` on (those that arrived without
        ``add``: posts, a flush's leftovers), turning on what they need."""
        rich = False
        for entry in islice(self, start, None):
            if len(entry) != PLAIN:
                policies = entry[LOCAL_POLICIES]
                self.note(entry, bool(policies) and not self.filtering and any_judges(policies))
                rich = True
        self.rich = rich

    # -- taking ------------------------------------------------------------------------------

    def take(self, count: int) -> None:
        """Remove the first ``count`` entries (a frame's, once it no longer shows them); the
        marks go with them (later arrivals are the owner's). (The compiled kernel's frames
        do it in C, ``take_head``: keep in sync.)"""
        try:  # take_for_removal(), its fast path inlined (a frame's end or open pays the call)
            take_token()
        except IndexError:
            take_for_removal()
        try:
            del self[:count]
            self.removed += count
            self.origins = None
        finally:
            put_token(True)

    def take_now(self, count: int) -> bool:
        """``take(count)`` unless the token is taken now (False: nothing removed; the frame's
        end leaves them to the next frame). (The compiled kernel's ``keep_or_drop`` checks the
        same: keep in sync.)"""
        if not SHIFT_TOKEN:  # (maybe this thread holds it, interrupted: see the rule)
            return False
        self.take(count)  # (another thread may take it meanwhile: a short wait)
        return True

    def cut(self, start: int, count: int) -> None:
        """Remove the ``count`` entries from ``start`` on (``close()``'s discard of the late
        arrivals after a kept frame); later entries move, the token held (see the rule)."""
        take_for_removal()
        try:
            del self[start : start + count]
        finally:
            put_token(True)

    def drop(self) -> None:
        """Remove every entry and mark, and the flags that only entries set."""
        self.take(len(self))
        self.rich = False

    def records(self, owner: Any) -> list[Any]:
        """The entries for a flush that needs no Intent: plain records of another scope
        (origin marks) become full records in place, so every plain one left is ``owner``'s."""
        count = len(self)
        origins = self.origins  # (read once: an ``intents`` reader may spend them meanwhile)
        if origins:  # each mark holds up to the next one (the last: to ``count``)
            for (start, scope), (end, _) in pairwise([*origins, (count, None)]):
                if scope is not None and scope is not owner:
                    for index in range(start, min(end, count)):
                        entry = self[index]
                        if len(entry) == PLAIN:
                            full = (*entry, None, None, None, None, (), scope)
                            # one an ``intents`` reader named meanwhile stays (nothing between
                            # the test and the write lets another thread run)
                            if self[index] is entry:
                                self[index] = full
        self.origins = None
        return self[:count]

    def materialize(self, owner: Any) -> list[Intent]:
        """Turn the records into Intents in place; return the Intents."""
        if self.rich and self.origins is None:
            entries = self[:]  # (an entry another thread appends meanwhile is not in it)
            if _all_intents(entries):
                return entries
        removed, origins = self.removed, self.origins
        entries = self[:]
        named = [(index, entry, to_intent(entry, scope))
                 for index, entry, scope in owned(entries, origins, owner)
                 if type(entry) is tuple]
        for index, _, intent in named:
            entries[index] = intent
        self._name_in_place(named, removed, origins)
        return entries

    def intents_for(self, entries: list[Any], owner: Any) -> list[Intent]:
        """The Intents of ``entries`` (taken from this buffer, plain records of ``owner``);
        each record found here is replaced by its Intent."""
        if _all_intents(entries):
            return entries
        removed = self.removed
        where = {id(e): index for index, e in enumerate(self) if type(e) is tuple}
        intents = [e if type(e) is Intent else to_intent(e, owner) for e in entries]
        self._name_in_place([(where[id(e)], e, intent)
                             for e, intent in zip(entries, intents, strict=True)
                             if intent is not e and id(e) in where], removed, None)
        return intents

    def _name_in_place(self, named: list[tuple[int, Any, Intent]], removed: int,
                       origins: Origins) -> None:
        """Replace each record of ``named`` (its index when ``removed`` was the count, the
        record, its Intent) by its Intent where it still is, holding the token; the marks
        ``origins`` are spent once every record is named."""
        if not named or not wait_for_token(NAMING_PATIENCE):
            return  # (the token's holder never let go: nothing named in place this time)
        try:
            shift = self.removed - removed
            every = True
            for index, record, intent in named:
                at = index - shift
                if 0 <= at < len(self) and self[at] is record:
                    self[at] = intent  # (``named`` holds the record: nothing is freed here)
                else:
                    every = False
            if every and origins is not None and self.origins is origins:
                self.origins = None
            self.rich = True
        finally:
            put_token(True)


def _all_intents(entries: list[Any]) -> bool:
    """Every entry is named already (the types counted in C: an observed flush asks this of
    every entry list)."""
    return not entries or set(map(type, entries)) == _INTENT_ONLY


_INTENT_ONLY = {Intent}


def owned(entries: list[Any], origins: Origins, owner: Any) -> Iterator[tuple[int, Any, Any]]:
    """Each of ``entries`` (a buffer's head) with its index and the scope a plain record there
    is of, as the origin marks say."""
    marks = iter(origins or ())
    mark = next(marks, None)
    scope = owner
    for index, entry in enumerate(entries):
        while mark is not None and mark[0] <= index:
            scope = mark[1] or owner
            mark = next(marks, None)
        yield index, entry, scope
