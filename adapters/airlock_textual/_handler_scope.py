"""One handler run as a nested airlock scope inside the app's tick.

Rules:
- A handler that returns hands its effects to the tick (captured, with this scope as their
  provenance); a handler that raises loses exactly its own effects (discarded, as any airlock
  scope is on an exception). Other handlers' effects in the same tick are untouched.
- A task the handler started (timer, worker, ``asyncio.create_task``) keeps this scope in its
  context. When it enqueues after the handler ended, the effect goes to the app's tick, so
  it lands in the tick's current or next frame — never an error, never early.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from airlock import AllowAll, Observer, Scope, TickScope

__all__ = ["HandlerScope"]

_ALLOW_ALL = AllowAll()


class HandlerScope(Scope):
    """The scope of one message handled by one pump (``repr``: ``Pump.handler_name``)."""

    def __init__(
        self, tick: TickScope, pump: object, handler_name: str, observers: Iterable[Observer]
    ) -> None:
        super().__init__(_ALLOW_ALL, executor=tick.executor, observers=observers)
        self.tick = tick
        self.pump = pump
        self.handler_name = handler_name

    @property
    def label(self) -> str:
        """``Button#save.on_button_pressed``: the pump (type and id) and the handler name."""
        pump = self.pump
        node_id = getattr(pump, "id", None)
        name = type(pump).__name__ + (f"#{node_id}" if node_id else "")
        return f"{name}.{self.handler_name}"

    def _enqueue_inactive(self, task: Callable[..., Any], *rest: Any) -> None:
        """After the handler ended, its tasks' enqueues go to the tick (same arguments)."""
        self.tick._enqueue_intent(task, *rest)

    def __repr__(self) -> str:
        return f"<handler {self.label}>"
