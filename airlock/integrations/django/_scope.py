"""DjangoScope: effects escape only after the database transaction around them commits.

Two rules, both through Django's ``transaction.on_commit``:

* A scope that exits inside an atomic block stays pending and flushes when that transaction
  commits. If it rolls back, Django drops the callback; ``settle()`` then discards the scope
  (the middleware calls it at the end of each request).
* An intent enqueued inside an atomic block escapes only if that block committed, even when
  the scope itself exits later, outside it (``ATOMIC_REQUESTS``, ``transaction.set_rollback``,
  an ``atomic`` block whose exception the view caught). Those intents count as ``dropped``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction  # type: ignore[import-untyped]

from ..._config import defaults
from ..._intent import Intent
from ..._observe import Observer
from ..._policies import Policy, check_policy
from ..._scope import ErrorMode, Executor, Scope

__all__ = ["CommittedOnly", "DjangoScope"]


class CommittedOnly(Policy):
    """Wraps ``inner``: an intent enqueued inside a transaction escapes only once it committed."""

    def __init__(self, inner: Policy, using: str = DEFAULT_DB_ALIAS) -> None:
        self.inner = inner
        self.using = using
        self._uncommitted: dict[int, Intent] = {}

    def track(self, intent: Intent) -> None:
        """Hold ``intent`` back until the transaction open right now commits (if one is open)."""
        if transaction.get_connection(self.using).in_atomic_block:
            key = id(intent)
            self._uncommitted[key] = intent
            transaction.on_commit(partial(self._uncommitted.pop, key, None), using=self.using)

    def on_enqueue(self, intent: Intent) -> None:
        self.inner.on_enqueue(intent)
        self.track(intent)

    def allows(self, intent: Intent) -> bool:
        return id(intent) not in self._uncommitted and self.inner.allows(intent)

    def __repr__(self) -> str:
        return f"CommittedOnly({self.inner!r}, using={self.using!r})"


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
        super().__init__(
            self.guard, executor=executor, order_by=order_by, errors=errors, observers=observers
        )
        self.using = using
        self._on_commit = self._committed
        self._waiting = False

    def should_flush(self, error: BaseException | None) -> bool:
        """Discard on error; flush now outside a transaction; else flush on commit."""
        if error is not None:
            return False
        if not transaction.get_connection(self.using).in_atomic_block:
            return True
        transaction.on_commit(self._on_commit, using=self.using)
        self._waiting = True
        return False

    def before_descendant_flushes(
        self, exiting_scope: Scope, intents: list[Intent]
    ) -> list[Intent]:
        """Capture everything (the default) and hold it to the transaction open right now."""
        for intent in intents:
            self.guard.track(intent)
        return []

    @property
    def is_pending(self) -> bool:
        """Exited, waiting for a commit: neither flushed nor discarded yet."""
        return self._waiting and not (self.is_flushed or self.is_discarded)

    def _committed(self) -> None:
        if self.is_pending:
            self.flush()

    def settle(self) -> None:
        """Discard a pending scope whose transaction rolled back (its commit callback is gone)."""
        if not self.is_pending:
            return
        connection = transaction.get_connection(self.using)
        if not any(entry[1] == self._on_commit for entry in connection.run_on_commit):
            self.discard()
