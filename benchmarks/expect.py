"""What one frame of each workload must have run, to check a contender did the work."""

from __future__ import annotations

from typing import Any

from .effects import PHASES

__all__ = ["expected_calls"]


def expected_calls(workload: str, param: int) -> list[tuple[Any, ...]]:
    """The calls one frame makes to its effect, in order."""
    k = param
    if workload in ("intents", "observed"):
        return [(i,) for i in range(k)]
    if workload in ("empty", "drop", "local_drop"):
        return []
    if workload == "nested":
        return [(d,) for d in range(param, 0, -1)]
    if workload == "coalesce":
        unique = max(k // 10, 1)
        return [(i,) for i in range(k - unique, k)]
    if workload == "batch":
        return [(list(range(k)),)]
    if workload == "ordered":
        order = list(reversed(PHASES))  # task i % 3 is order[i % 3]
        return [(p, i) for p in PHASES for i in range(k) if order[i % 3] == p]
    raise ValueError(f"no expectation for workload {workload!r}")
