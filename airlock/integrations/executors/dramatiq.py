"""Dramatiq executor: dispatch by what the actor can do, not by its class.

Anything with ``send_with_options`` goes through ``send_with_options(args=..., kwargs=...,
**dispatch_options)``; else anything with ``send`` through ``send(*args, **kwargs)``; else it
is called. ``intent.dispatch_options`` become message options (``delay``, ``max_retries``...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from ._direct import backend_options, call_directly

try:
    import dramatiq  # noqa: F401 - fail early if missing
except ImportError as exc:  # pragma: no cover - exercised in a subprocess
    raise missing_extra("airlock.integrations.executors.dramatiq", "dramatiq", "dramatiq") from exc

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["dramatiq_executor"]


def dramatiq_executor(intent: Intent) -> Any:
    """``send_with_options(args, kwargs, **dispatch_options)``, else ``send(*args, **kwargs)``,
    else call the task."""
    task = intent.task
    send_with_options = getattr(task, "send_with_options", None)
    if callable(send_with_options):
        return send_with_options(
            args=intent.args, kwargs=intent.kwargs, **backend_options(intent)
        )
    send = getattr(task, "send", None)
    if callable(send) and not backend_options(intent):
        return send(*intent.args, **intent.kwargs)
    return call_directly(intent, "Dramatiq")
