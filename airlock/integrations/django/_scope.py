"""DjangoScope: effects escape only once the database transaction around them commits.

Two rules, both through Django's ``transaction.on_commit``:

* Each dispatch is deferred with ``schedule_dispatch(callback)``, by default
  ``transaction.on_commit(callback, using=..., robust=True)``: outside a transaction it runs
  at once; inside one it waits for the commit and vanishes with a rollback. ``deferred`` tells
  what became of each (``"waiting"``, ``"ran"``, ``"failed"``, ``"undispatched"``,
  ``"rolled back"``, the last one found by ``settle()``, which the middleware calls at the end
  of each request).
* A failing effect is a failure of the scope, as in any scope: counted in ``stats.failed`` and
  told to ``Observer.failed``, ``errors=`` deciding the rest. One that runs during the flush
  (no transaction) fails it like any effect. One that runs at the commit, after the flush
  ended, moves in the stats from ``dispatched`` to ``failed``; under ``errors="raise"`` the
  scope's dispatches still waiting behind it do not run (``undispatched``) and the error goes
  to Django's robust ``on_commit``, which logs it; under ``"continue"`` it is logged and listed
  in ``stats.failures`` and the others run. A dispatch that a rollback dropped moves from
  ``dispatched`` to ``dropped`` when ``settle()`` finds it.
* An intent enqueued inside an atomic block escapes only if that block committed, even when
  the scope itself ends later, outside it (``ATOMIC_REQUESTS``, ``transaction.set_rollback``,
  an ``atomic`` block whose exception the view caught). Those intents count as ``dropped``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction  # type: ignore[import-untyped]

from ..._config import defaults
from ..._executor import Executor
from ..._intent import Intent
from ..._observe import Observer, report_background_failure, tell_after_flush
from ..._policies import Policy, check_policy
from ..._scope import ErrorMode, Scope
from ..._stats import attach_undispatched

__all__ = ["CommittedOnly", "DeferredDispatch", "DjangoScope"]

logger = logging.getLogger("airlock")


class CommittedOnly(Policy):
    """Wraps ``inner``: an intent enqueued inside a transaction that rolled back is dropped.

    An intent enqueued inside an atomic block escapes once that block committed, or while it
    is still open (its dispatch then waits for the commit through ``on_commit``); it is
    dropped when the block rolled back, even if the scope ends outside it.
    """

    def __init__(self, inner: Policy, using: str = DEFAULT_DB_ALIAS) -> None:
        self.inner = inner
        self.using = using
        #: id(intent) -> the on_commit marker that forgets it once its block commits
        self._uncommitted: dict[int, Callable[[], Any]] = {}
        #: (Django's on_commit list, its length, ids of its callbacks): a rollback replaces
        #: the list, an on_commit appends to it, so the ids are read again only after either
        self._registered: tuple[list[Any], int, set[int]] | None = None

    def track(self, intent: Intent) -> None:
        """Watch ``intent`` until the transaction open right now commits (if one is open)."""
        if transaction.get_connection(self.using).in_atomic_block:
            key = id(intent)
            marker = partial(self._uncommitted.pop, key, None)
            self._uncommitted[key] = marker
            transaction.on_commit(marker, using=self.using)

    def rolled_back(self, intent: Intent) -> bool:
        """True when ``intent`` was enqueued in an atomic block that has rolled back."""
        marker = self._uncommitted.get(id(intent))
        if marker is None:
            return False  # enqueued outside a transaction, or its block committed
        callbacks = transaction.get_connection(self.using).run_on_commit
        cached = self._registered
        if cached is None or cached[0] is not callbacks or cached[1] != len(callbacks):
            cached = self._registered = (
                callbacks, len(callbacks), {id(entry[1]) for entry in callbacks}
            )
        return id(marker) not in cached[2]  # a rollback drops the marker from the list

    def on_enqueue(self, intent: Intent) -> None:
        self.inner.on_enqueue(intent)
        self.track(intent)

    def allows(self, intent: Intent) -> bool:
        return not self.rolled_back(intent) and self.inner.allows(intent)

    def __repr__(self) -> str:
        return f"CommittedOnly({self.inner!r}, using={self.using!r})"


class DeferredDispatch:
    """One intent's dispatch, handed to ``schedule_dispatch``; calling it runs the executor.

    ``state`` is ``"waiting"``, ``"ran"``, ``"failed"`` (``error`` says why),
    ``"undispatched"`` (an earlier dispatch of its scope failed at the commit under
    ``errors="raise"``) or ``"rolled back"`` (its transaction rolled back, so Django dropped
    it). Each dispatch runs once.
    """

    __slots__ = ("__qualname__", "error", "executor", "intent", "scope", "state")

    def __init__(
        self, executor: Executor, intent: Intent, scope: DjangoScope | None = None
    ) -> None:
        self.executor = executor
        self.intent = intent
        #: the scope that accounts for a failure after its flush (None: the caller does)
        self.scope = scope
        self.state = "waiting"
        self.error: BaseException | None = None
        #: Django's robust on_commit names the failing callback by its ``__qualname__``.
        self.__qualname__ = f"airlock dispatch of {intent}"

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


class DjangoScope(Scope):
    """A scope whose effects wait for the surrounding transaction (database ``using``)."""

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
        super().__init__(
            self.guard, executor=executor, order_by=order_by, errors=errors, observers=observers
        )
        self.executor = self._executor  # wrap the chosen executor (see the property)

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
        self._scheduling = dispatch
        try:
            self.schedule_dispatch(dispatch)
        finally:
            self._scheduling = None

    def schedule_dispatch(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` (one intent's dispatch) once the transaction commits, through
        ``transaction.on_commit(callback, robust=True)``; at once outside a transaction (also
        in async code, where Django has none), where a failure fails the flush like any
        effect's. Override to defer differently. Under manual transaction management
        (autocommit off, no atomic block) there is no commit to wait for: refused as Django's
        own ``on_commit`` refuses it (``TransactionManagementError``: the dispatch fails), not
        run inside a transaction that may yet roll back."""
        connection = transaction.get_connection(self.using)
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

    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        """Capture everything (the default) and hold it to the transaction open right now."""
        for intent in intents:
            self.guard.track(intent)
        return []

    @property
    def is_pending(self) -> bool:
        """Some dispatch is waiting for a transaction to commit."""
        return any(d.state == "waiting" for d in self.deferred)

    def settle(self) -> None:
        """Mark the waiting dispatches whose transaction rolled back (Django dropped their
        callbacks) as ``"rolled back"``, counted ``dropped`` instead of ``dispatched``; the ones
        still registered keep waiting."""
        waiting = [d for d in self.deferred if d.state == "waiting"]
        if not waiting:
            return
        connection = transaction.get_connection(self.using)
        registered = {id(entry[1]) for entry in connection.run_on_commit}
        rolled_back = [d for d in waiting if id(d) not in registered]
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
