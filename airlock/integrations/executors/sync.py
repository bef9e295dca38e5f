"""The default executor: call the task right here, right now (it lives in the core)."""

from ..._executor import sync_executor

__all__ = ["sync_executor"]
