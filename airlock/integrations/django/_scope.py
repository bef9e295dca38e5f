"""DjangoScope: effects escape only once the database transaction around them commits.

Two rules, both through Django's ``transaction.on_commit``:

* Each dispatch is deferred with ``schedule_dispatch(callback)``, by default
  ``transaction.on_commit(callback, using=..., robust=True)``: outside a transaction it runs
  at once; inside one it waits for the commit and vanishes with a rollback. Robust: a failing
  dispatch is logged by Django and does not stop the others. ``deferred`` tells what became of
  each (``"waiting"``, ``"ran"``, ``"failed"``, ``"rolled back"``, the last one found by
  ``settle()``, which the middleware calls at the end of each request).
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
from ..._observe import Observer
from ..._policies import Policy, check_policy
from ..._scope import ErrorMode, Scope

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

    ``state`` is ``"waiting"``, ``"ran"``, ``"failed"`` (``error`` says why) or
    ``"rolled back"`` (its transaction rolled back, so Django dropped it).
    """

    __slots__ = ("__qualname__", "error", "executor", "intent", "state")

    def __init__(self, executor: Executor, intent: Intent) -> None:
        self.executor = executor
        self.intent = intent
        self.state = "waiting"
        self.error: BaseException | None = None
        #: Django's robust on_commit names the failing callback by its ``__qualname__``.
        self.__qualname__ = f"airlock dispatch of {intent}"

    def __call__(self) -> Any:
        if self.state != "waiting":
            return None  # each dispatch runs once
        try:
            result = self.executor(self.intent)
        except BaseException as exc:
            self.state, self.error = "failed", exc
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
        dispatch = DeferredDispatch(self._inner_executor, intent)
        self.deferred.append(dispatch)
        self.schedule_dispatch(dispatch)

    def schedule_dispatch(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` (one intent's dispatch) once the transaction commits, through
        ``transaction.on_commit(callback, robust=True)``; at once outside a transaction (also
        in async code, where Django has none). Override to defer differently."""
        if transaction.get_connection(self.using).in_atomic_block:
            transaction.on_commit(callback, using=self.using, robust=True)
            return
        try:  # what robust on_commit does outside a transaction
            callback()
        except Exception:
            logger.exception("airlock: %s failed", getattr(callback, "__qualname__", callback))

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
        callbacks) as ``"rolled back"``; the ones still registered keep waiting."""
        waiting = [d for d in self.deferred if d.state == "waiting"]
        if not waiting:
            return
        connection = transaction.get_connection(self.using)
        registered = {id(entry[1]) for entry in connection.run_on_commit}
        for dispatch in waiting:
            if id(dispatch) not in registered:
                dispatch.state = "rolled back"

    @property
    def rolled_back_intents(self) -> list[Intent]:
        """Intents whose dispatch was dropped by a rollback (found by ``settle()``)."""
        return [d.intent for d in self.deferred if d.state == "rolled back"]
