"""The workloads: what one frame does, and at which sizes it is measured.

Every contender that supports a workload does the same domain work per frame; ``units`` is
what a per-intent cost divides by (the number of enqueues in a frame).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BY_NAME", "WORKLOADS", "Workload"]


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    params: tuple[int, ...]  # K (intents per frame) or depth
    quick_params: tuple[int, ...]
    what: str

    def units(self, param: int) -> int:
        """Enqueues per frame (at least 1, so an empty frame is 'per frame')."""
        return max(param, 1)

    def group(self, param: int) -> str:
        return f"{self.name}-{param}"


_K = (1, 10, 100, 1000, 10000)

WORKLOADS = (
    Workload("intents", "K no-op intents per frame", _K, (1, 10, 100, 1000),
             "enqueue K no-op effects, then flush (run them)"),
    Workload("empty", "Empty frame", (0,), (0,),
             "open and close a frame with nothing in it (`with tick: pass`)"),
    Workload("nested", "Nested scopes", (1, 4, 16), (1, 4, 16),
             "D nested scopes, one intent enqueued at each level; the outermost runs them all"),
    Workload("drop", "DropAll policy", (100,), (100,),
             "enqueue 100 intents into a scope whose policy drops them all"),
    Workload("local_drop", "Local DropAll (airlock.policy)", (100,), (100,),
             "enqueue 100 intents inside `with airlock.policy(DropAll())` in an allow-all scope"),
    Workload("coalesce", "Coalescing keys, 10% unique", (100, 1000), (100,),
             "enqueue K intents over K/10 keys; the last per key runs"),
    Workload("batch", "Batch effect", (100, 1000), (100,),
             "enqueue K payloads to one batch effect; its handler runs once with all of them"),
    Workload("ordered", "Ordered by phase", (100,), (100,),
             "enqueue K intents over 3 phases in reverse order; they run phase by phase"),
    Workload("observed", "Observer attached", (100,), (100,),
             "K no-op intents in a scope with a do-nothing Observer (all hooks called)"),
)

BY_NAME = {w.name: w for w in WORKLOADS}
