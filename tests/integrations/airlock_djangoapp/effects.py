"""Module-level effects (importable, so django-q can run them) that write to a shared log."""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db import connection

LOG: list[tuple[str, object]] = []


def record(label: str) -> None:
    """Log that the effect ran, and whether a transaction was still open when it did."""
    LOG.append((label, connection.in_atomic_block))


def record_committed(name: str) -> None:
    """Log whether Order ``name`` is visible from a separate database connection (committed)."""
    db = sqlite3.connect(str(connection.settings_dict["NAME"]))
    try:
        found = db.execute("SELECT count(*) FROM airlock_djangoapp_order WHERE name = ?", (name,))
        LOG.append((f"committed:{name}", found.fetchone()[0] == 1))
    finally:
        db.close()


def add(a: int, b: int) -> int:
    LOG.append(("add", a + b))
    return a + b


def logging_executor(intent: Any) -> None:
    """An executor named in settings.AIRLOCK by the tests: logs the intent, then runs it."""
    LOG.append(("executor", intent.name))
    intent.task(*intent.args, **intent.kwargs)


#: Tasks the ``enqueue_tasks`` view enqueues (with the order name); set by a test.
TASKS: list[Any] = []
