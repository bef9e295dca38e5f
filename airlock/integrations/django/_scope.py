"""DjangoScope: effects escape only once the database transaction around them commits.

Three rules, through Django's ``transaction.on_commit``:

* An intent enqueued inside an atomic block escapes only if that block commits. A DjangoScope
  watches every intent enqueued while it is open, in it or in a scope nested in it (a
  library's own ``airlock.scope()``), from its enqueue, on every database whose atomic block
  is open then (``CommittedOnly``); the intent is withdrawn (counted ``dropped``) by the
  flush that finds one of those blocks rolled back: an exception, ``transaction.set_rollback``, a
  rolled-back savepoint, ``ATOMIC_REQUESTS``. One enqueued outside them, or in a block that
  committed, escapes, wherever its scope ends: an enclosing plain scope or tick that captured
  it asks again at its own flush. A dispatch deferred to ``using``'s commit while the intent's
  block of another database is still open fails (``TransactionManagementError``).
* Each dispatch is deferred with ``schedule_dispatch(callback)``, by default
  ``transaction.on_commit(callback, using=..., robust=True)``: outside a transaction it runs
  at once; inside one it waits for the commit and vanishes with a rollback. ``deferred`` tells
  what became of each (``"waiting"``, ``"ran"``, ``"failed"``, ``"undispatched"``,
  ``"rolled back"``). ``settle()``, which the middleware calls at the end of each request,
  finds the rolled-back ones among those handed to a database's ``on_commit``; a dispatch
  that ``schedule_dispatch`` deferred another way waits until it is called.
* A failing effect is a failure of the scope, as in any scope: counted in ``stats.failed`` and
  told to ``Observer.failed``, ``errors=`` deciding the rest. One that runs during the flush
  (no transaction) fails it like any effect. One that runs at the commit, after the flush
  ended, moves in the stats from ``dispatched`` to ``failed``; under ``errors="raise"`` the
  scope's dispatches still waiting behind it do not run (``undispatched``) and the error goes
  to Django's robust ``on_commit``, which logs it; under ``"continue"`` it is logged and listed
  in ``stats.failures`` and the others run. A dispatch that a rollback dropped moves from
  ``dispatched`` to ``dropped`` when ``settle()`` finds it.

A rolled-back intent is *withdrawn* (``Policy.withdraws``, stage 0 of the flush): it leaves
before coalescing, so a committed intent with the same ``_key`` is not coalesced into it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from asyncio.events import _get_running_loop
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction  # type: ignore[import-untyped]

from ... import policy as local_policy
from ..._config import defaults
from ..._executor import Executor
from ..._intent import Intent
from ..._observe import Observer, report_background_failure, tell_after_flush
from ..._policies import Policy, check_policy
from ..._scope import ErrorMode, Scope
from ..._stats import attach_undispatched

__all__ = ["CommittedOnly", "DeferredDispatch", "DjangoScope", "RollbackWatch"]

logger = logging.getLogger("airlock")

D = TypeVar("D", bound="DjangoScope")


class _Commit:
    """An ``on_commit`` callback that marks one intent's atomic block (on one database
    ``connection``) as committed: it forgets itself, and the intent once every block it
    waited for committed. One per intent: a marker shared by intents enqueued before and
    after a test's ``captureOnCommitCallbacks`` began would escape the capture."""

    __slots__ = ("connection", "key", "watched")

    def __init__(
        self, watched: dict[int, tuple[Intent, list[_Commit]]], key: int, connection: Any
    ) -> None:
        self.watched = watched
        self.key = key
        self.connection = connection

    def __call__(self) -> None:
        entry = self.watched.get(self.key)
        if entry is not None and self in entry[1]:  # (else: a later intent's, same id)
            waiting = entry[1]
            waiting.remove(self)
            if not waiting:
                del self.watched[self.key]


#: (the connection handler's ``Local``, the ``threading.local`` it keeps a thread's connections
#: in when no event loop runs there, or None): worked out once per ``Local``, in one assignment
_storage_of: tuple[Any, threading.local | None] = (None, None)


def _sync_storage(local: Any) -> threading.local | None:
    """Where ``local`` (Django's connections, an asgiref ``Local(thread_critical=True)``) keeps
    a thread's connections when no event loop runs in it: asgiref 3.8 and later keep them as
    the attributes of a ``threading.local``, ``_storage`` (read there, and only there, when
    ``asyncio.get_running_loop()`` finds no loop). None for any other layout."""
    try:
        storage = object.__getattribute__(local, "_storage")
    except AttributeError:
        return None
    if not isinstance(storage, threading.local):
        return None
    if type(local).__name__ == "_ThreadCriticalLocal":  # asgiref 3.13 and later
        return storage
    try:  # asgiref 3.8 to 3.12: one Local class, thread-critical by a flag
        critical = object.__getattribute__(local, "_thread_critical")
    except AttributeError:
        return None
    return storage if critical is True else None


def _this_threads() -> dict[str, Any] | None:
    """This thread's initialised connections by alias, read from the storage Django's
    ``connections`` reads them from (a look-up there costs about 1 µs an alias, a miss more;
    this, one dict); None where that does not apply (an event loop runs in this thread, where
    asgiref keeps them per async context, or a layout ``_sync_storage`` does not know): then
    ask ``connections``."""
    global _storage_of
    local = connections._connections
    known = _storage_of
    if known[0] is not local:
        known = _storage_of = (local, _sync_storage(local))
    storage = known[1]
    if storage is None or _get_running_loop() is not None:
        return None
    found: dict[str, Any] = vars(storage)
    return found


def _open_blocks() -> list[Any]:
    """The connections of this thread (or async context) with an atomic block open now:
    ``connections.all(initialized_only=True)``'s, read without its look-ups where it can be."""
    found = _this_threads()
    if found is None:
        return [c for c in connections.all(initialized_only=True) if c.in_atomic_block]
    return [
        c for alias in connections.settings
        if (c := found.get(alias)) is not None and c.in_atomic_block
    ]


def _connection(alias: str) -> Any:
    """``transaction.get_connection(alias)``, this thread's connection for ``alias``, read
    without the handler's look-up when it is initialised already."""
    found = _this_threads()
    if found is not None:
        connection = found.get(alias)
        if connection is not None:
            return connection
    return transaction.get_connection(alias)


class CommittedOnly(Policy):
    """Wraps ``inner``: an intent enqueued inside an atomic block that rolled back is dropped.

    ``track(intent)`` (run at each enqueue) watches the intent on every database whose atomic
    block is open then. It escapes once those blocks committed, or while they are still open
    (a DjangoScope's dispatch then waits for the commit of its database ``using``); it is
    dropped once one of them rolled back, even if the scope ends outside it.
    """

    def __init__(self, inner: Policy, using: str = DEFAULT_DB_ALIAS) -> None:
        self.inner = inner
        self.using = using
        #: id(intent) -> (the intent, the commit markers it still waits for, one per database)
        self._watched: dict[int, tuple[Intent, list[_Commit]]] = {}
        #: id(connection) -> (Django's on_commit list, its length, ids of its callbacks): a
        #: rollback replaces the list, an on_commit appends to it, so the ids are read again
        #: only then
        self._registered: dict[int, tuple[list[Any], int, set[int]]] = {}
        #: the intent tracked last (a DjangoScope's own intent is tracked by its watch, then
        #: by this policy's on_enqueue: the second call is skipped without a lookup)
        self._last: Intent | None = None

    def track(self, intent: Intent) -> None:
        """Watch ``intent`` until the atomic blocks open right now commit (nothing to watch
        outside a transaction). An intent already watched is not watched again."""
        key = id(intent)
        if intent is self._last or key in self._watched:
            return
        self._last = intent
        blocks = _open_blocks()
        if not blocks:
            return
        waiting = []
        for connection in blocks:
            marker = _Commit(self._watched, key, connection)
            connection.on_commit(marker)
            waiting.append(marker)
        self._watched[key] = (intent, waiting)  # (holding the intent keeps its id its own)

    def rolled_back(self, intent: Intent) -> bool:
        """True when an atomic block ``intent`` was enqueued in has rolled back."""
        entry = self._watched.get(id(intent))
        if entry is None or entry[0] is not intent:
            return False  # enqueued outside a transaction, or its blocks committed
        # a rollback drops the marker from its connection's list
        return any(id(marker) not in self._callbacks(marker.connection) for marker in entry[1])

    def open_elsewhere(self, intent: Intent, using: str) -> list[str]:
        """The databases other than ``using`` whose atomic block ``intent`` was enqueued in is
        still open (its dispatch, deferred to ``using``'s commit, would not wait for them)."""
        entry = self._watched.get(id(intent))
        if entry is None or entry[0] is not intent:
            return []
        return [
            marker.connection.alias for marker in entry[1]
            if marker.connection.alias != using and marker.connection.in_atomic_block
        ]

    def _callbacks(self, connection: Any) -> set[int]:
        """The ids of the callbacks on ``connection``'s on_commit list now."""
        callbacks = connection.run_on_commit
        cached = self._registered.get(id(connection))  # (a marker holds the connection)
        if cached is None or cached[0] is not callbacks or cached[1] != len(callbacks):
            cached = self._registered[id(connection)] = (
                callbacks, len(callbacks), {id(entry[1]) for entry in callbacks}
            )
        return cached[2]

    def on_enqueue(self, intent: Intent) -> None:
        self.inner.on_enqueue(intent)
        self.track(intent)

    def withdraws(self, intent: Intent) -> bool:
        """A rolled-back intent is withdrawn: dropped before coalescing, so it supersedes
        no committed intent with its ``_key`` (and forgotten: the decision is final)."""
        if not self.rolled_back(intent):
            return False
        del self._watched[id(intent)]
        return True

    def allows(self, intent: Intent) -> bool:
        """Not rolled back (a flush withdrew those first) and allowed by ``inner``."""
        return not self.rolled_back(intent) and self.inner.allows(intent)

    def __repr__(self) -> str:
        return f"CommittedOnly({self.inner!r}, using={self.using!r})"


class RollbackWatch(Policy):
    """The local policy a ``DjangoScope`` keeps open around its body (``airlock.policy``), so
    that every intent enqueued inside, in nested scopes too, is tracked by ``guard`` at its
    enqueue and dropped by the flush that finds its atomic block rolled back."""

    def __init__(self, guard: CommittedOnly) -> None:
        self.guard = guard

    def on_enqueue(self, intent: Intent) -> None:
        self.guard.track(intent)

    def withdraws(self, intent: Intent) -> bool:
        return self.guard.withdraws(intent)

    def __repr__(self) -> str:
        return f"RollbackWatch(using={self.guard.using!r})"


class DeferredDispatch:
    """One intent's dispatch, handed to ``schedule_dispatch``; calling it runs the executor.

    ``state`` is ``"waiting"``, ``"ran"``, ``"failed"`` (``error`` says why),
    ``"undispatched"`` (an earlier dispatch of its scope failed at the commit under
    ``errors="raise"``) or ``"rolled back"`` (its transaction rolled back, so Django dropped
    it). ``using`` names the database whose ``on_commit`` holds it (None: it was not handed to
    one). Each dispatch runs once.
    """

    __slots__ = (
        "__qualname__", "_held_by", "error", "executor", "intent", "scope", "state", "using",
    )

    def __init__(
        self, executor: Executor, intent: Intent, scope: DjangoScope | None = None
    ) -> None:
        self.executor = executor
        self.intent = intent
        #: the scope that accounts for a failure after its flush (None: the caller does)
        self.scope = scope
        self.state = "waiting"
        self.error: BaseException | None = None
        self.using: str | None = None
        #: the connection whose on_commit list holds it (read by ``DjangoScope.settle``)
        self._held_by: Any = None

    def __getattr__(self, name: str) -> Any:
        """``__qualname__``, by which Django's robust ``on_commit`` names a failing callback:
        ``"airlock dispatch of <intent>"``, made when first asked (formatting the intent's
        arguments costs about as much as the rest of a dispatch's bookkeeping)."""
        if name != "__qualname__":
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        qualname = self.__qualname__ = f"airlock dispatch of {self.intent}"
        return qualname

    def __call__(self) -> Any:
        if self.state != "waiting":
            return None
        try:
            result = self.executor(self.intent)
        except BaseException as exc:
            self.state, self.error = "failed", exc
            scope = self.scope
            if scope is None or scope._scheduling is self:
                raise  # inside the flush, which counts and reports the failure
            if scope._failed_after_flush(self, exc):
                return None
            raise
        self.state = "ran"
        return result

    def __repr__(self) -> str:
        return f"<DeferredDispatch {self.intent} {self.state}>"


def _commit_hooks_running(connection: Any) -> list[Any]:
    """The ``on_commit`` entries that ``connection`` is running now, after its commit, on any
    thread: the one being called and those after it. Django takes them off ``run_on_commit``
    first (``run_and_clear_commit_hooks`` holds them in locals), so a ``settle()`` called from
    one of them must not count itself or the others rolled back. Read from the threads'
    frames, only when some dispatch is missing from ``run_on_commit``."""
    running: list[Any] = []
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_name == "run_and_clear_commit_hooks":
                local = frame.f_locals
                if local.get("self") is connection:
                    running.append((None, local.get("func"), None))
                    running += local.get("current_run_on_commit") or ()
            frame = frame.f_back  # type: ignore[assignment]
    return running


def _commit_lists() -> list[tuple[Any, list[Any], int]]:
    """Each connection with an atomic block open, its on_commit list and that list's length."""
    return [(c, c.run_on_commit, len(c.run_on_commit)) for c in _open_blocks()]


def _registered_on(callback: object, before: list[tuple[Any, list[Any], int]]) -> Any:
    """The connection whose on_commit took ``callback`` since ``before`` was read, or None."""
    for connection, callbacks, length in before:
        now = connection.run_on_commit
        added = now[length:] if now is callbacks else now
        if any(entry[1] is callback for entry in added):
            return connection
    return None


class DjangoScope(Scope):
    """A scope whose effects wait for the surrounding transaction (database ``using``), and
    drop those enqueued in an atomic block that rolled back (on any database)."""

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        executor: Executor | None = None,
        order_by: Callable[[Intent], Any] | None = None,
        errors: ErrorMode = "raise",
        observers: Iterable[Observer] = (),
        using: str = DEFAULT_DB_ALIAS,
    ) -> None:
        inner = defaults.policy if policy is None else check_policy(policy)
        self.guard = CommittedOnly(inner, using)
        self.using = using
        #: Every dispatch of this scope, in order, with what became of it.
        self.deferred: list[DeferredDispatch] = []
        #: the dispatch being handed to ``schedule_dispatch`` (one that runs then runs inside
        #: the flush, which accounts for its failure)
        self._scheduling: DeferredDispatch | None = None
        #: the ``airlock.policy(RollbackWatch)`` block open while the scope is active
        self._watch: Any = None
        super().__init__(
            self.guard, executor=executor, order_by=order_by, errors=errors, observers=observers
        )
        self.executor = self._executor  # wrap the chosen executor (see the property)

    def enter(self: D) -> D:
        """Enter, with a ``RollbackWatch`` open around the body: every intent enqueued inside,
        in nested scopes too, is tracked from its enqueue."""
        super().enter()
        watch = local_policy(RollbackWatch(self.guard))
        watch.__enter__()
        self._watch = watch
        return self

    def exit(self) -> None:
        """Close the watch, then exit."""
        watch, self._watch = self._watch, None
        if watch is not None:
            # in another context the scope's own exit() below says what to do
            with contextlib.suppress(ValueError):
                watch.__exit__(None, None, None)
        super().exit()

    @property
    def executor(self) -> Executor:
        """The executor each dispatch runs with, once ``schedule_dispatch`` lets it."""
        return self._inner_executor

    @executor.setter
    def executor(self, executor: Executor) -> None:
        set_executor = Scope.executor.fset  # type: ignore[attr-defined]
        set_executor(self, executor)  # checks it
        self._inner_executor = executor
        set_executor(self, self._defer)

    def _defer(self, intent: Intent) -> None:
        dispatch = DeferredDispatch(self._inner_executor, intent, self)
        self.deferred.append(dispatch)
        # which commit takes it is looked for only where one may (the default deferral
        # outside a transaction runs it at once)
        self._scheduling = dispatch
        try:
            default = getattr(self.schedule_dispatch, "__func__", None) is (
                DjangoScope.schedule_dispatch  # (not overridden, on the class or instance)
            )
            at_once = default and not _connection(self.using).in_atomic_block
            before = [] if at_once else _commit_lists()
            # (an override defers as it sees fit: on another database's commit, say)
            elsewhere = self.guard.open_elsewhere(intent, self.using) if default else []
            if elsewhere:  # the default deferral would not wait for those blocks to commit
                raise transaction.TransactionManagementError(
                    f"{intent} was enqueued in an atomic block of database(s) {elsewhere}, "
                    f"still open when this DjangoScope(using={self.using!r}) flushed: it would "
                    "run before that block commits (or rolls back). Use "
                    "DjangoScope(using=...) for that database, or end its block before the "
                    "scope ends"
                )
            self.schedule_dispatch(dispatch)
        except BaseException as exc:
            if dispatch.state == "waiting":  # refused before it ran: it never will
                dispatch.state, dispatch.error = "failed", exc
            raise
        finally:
            self._scheduling = None
        if dispatch.state == "waiting":  # settle() judges it only if a commit holds it
            held_by = dispatch._held_by = _registered_on(dispatch, before)
            if held_by is not None:
                dispatch.using = held_by.alias

    def schedule_dispatch(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` (one intent's dispatch) once the transaction commits, through
        ``transaction.on_commit(callback, robust=True)``; at once outside a transaction (also
        in async code, where Django has none), where a failure fails the flush like any
        effect's. Override to defer differently: a callback handed to a database's
        ``on_commit`` is marked ``"rolled back"`` by ``settle()`` once its transaction rolled
        back; one deferred another way waits until it is called. Under manual transaction
        management (autocommit off, no atomic block) there is no commit to wait for: refused
        as Django's own ``on_commit`` refuses it (``TransactionManagementError``: the dispatch
        fails), not run inside a transaction that may yet roll back."""
        connection = _connection(self.using)
        if connection.in_atomic_block:
            transaction.on_commit(callback, using=self.using, robust=True)
            return
        # (the attribute, not get_autocommit(): that connects, and raises in async code)
        if connection.connection is not None and not connection.autocommit:
            raise transaction.TransactionManagementError(
                "airlock cannot defer an effect to the commit under manual transaction "
                "management (autocommit is off, no atomic block is open): use "
                "transaction.atomic() around the work, or flush the scope once it committed"
            )
        callback()

    def _failed_after_flush(self, failed: DeferredDispatch, exc: BaseException) -> bool:
        """Account for a dispatch that failed after the flush (at the commit): failed, not
        dispatched; told to the observers. True when the others go on (``errors="continue"``
        and not an interrupt); else the scope's dispatches still waiting never run."""
        intent = failed.intent
        stats = self._current_stats()
        stats.dispatched -= 1
        stats.failed += 1
        goes_on = self.errors == "continue" and isinstance(exc, Exception)
        if goes_on:
            stats.failures.append((intent, exc))
            logger.error("airlock: %s failed at the commit", intent, exc_info=exc)
        else:
            later = self.deferred[self.deferred.index(failed) + 1 :]
            rest = [d for d in later if d.state == "waiting"]
            for dispatch in rest:
                dispatch.state = "undispatched"
            stats.dispatched -= len(rest)
            stats.undispatched += len(rest)
            attach_undispatched(exc, intent, [d.intent for d in rest])
        report_background_failure(intent, exc, self)
        return goes_on

    @property
    def is_pending(self) -> bool:
        """Some dispatch is waiting for a transaction to commit (or for ``schedule_dispatch``'s
        own deferral to call it)."""
        return any(d.state == "waiting" for d in self.deferred)

    def settle(self) -> None:
        """Mark as ``"rolled back"`` each waiting dispatch that was handed to a database's
        ``on_commit`` and that Django dropped since (its transaction rolled back): counted
        ``dropped`` instead of ``dispatched``. Those still registered keep waiting, and so do
        those ``schedule_dispatch`` deferred another way."""
        held = [d for d in self.deferred if d.state == "waiting" and d._held_by is not None]
        if not held:
            return
        registered: dict[int, set[int]] = {}
        rolled_back = []
        for dispatch in held:
            connection = dispatch._held_by
            ids = registered.get(id(connection))
            if ids is None:
                entries = [*connection.run_on_commit, *_commit_hooks_running(connection)]
                ids = registered[id(connection)] = {id(e[1]) for e in entries}
            if id(dispatch) not in ids:
                rolled_back.append(dispatch)
        if not rolled_back:
            return
        stats = self._current_stats()
        for dispatch in rolled_back:
            dispatch.state = "rolled back"
            stats.dispatched -= 1
            stats.dropped += 1
            tell_after_flush(self, "dropped", dispatch.intent)

    @property
    def rolled_back_intents(self) -> list[Intent]:
        """Intents whose dispatch was dropped by a rollback (found by ``settle()``)."""
        return [d.intent for d in self.deferred if d.state == "rolled back"]
