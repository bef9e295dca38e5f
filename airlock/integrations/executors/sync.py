"""The default executor: call the task right here, right now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..._intent import Intent

__all__ = ["sync_executor"]


def sync_executor(intent: Intent) -> Any:
    """Call ``intent.task(*intent.args, **intent.kwargs)`` in the flushing thread."""
    return intent.task(*intent.args, **intent.kwargs)
