"""One handler run as a nested airlock scope inside the app's tick.

Rules:
- A handler that returns hands its effects to the tick (captured, with this scope as their
  provenance); a handler that raises loses exactly its own effects (discarded, as any airlock
  scope is on an exception). Other handlers' effects in the same tick are untouched.
- A task the handler started (timer, worker, ``asyncio.create_task``) keeps this scope in its
  context. When it enqueues after the handler ended, the effect goes to the app's tick
  (``late_enqueue_target``), so it lands in the tick's current or next frame — never an
  error, never early.
- The scope filters nothing and dispatches nothing itself: the tick's policy decides, and the
  tick runs the effects (see ``TickDriver._handler_scope_options`` for its arguments).
"""

from __future__ import annotations

from collections.abc import Iterable

from airlock import Executor, Observer, Policy, Scope, TickScope

__all__ = ["HandlerScope"]


class HandlerScope(Scope):
    """The scope of one message handled by one pump (``repr``: ``Pump.handler_name``)."""

    __slots__ = ("handler_name", "pump", "tick")

    def __init__(
        self,
        tick: TickScope,
        pump: object,
        handler_name: str,
        policy: Policy | None = None,
        *,
        executor: Executor | None = None,
        observers: Iterable[Observer] = (),
    ) -> None:
        if policy is None and executor is None and not observers:
            super().__init__()  # the core's cheapest scope (see the module docstring)
        else:
            super().__init__(policy, executor=executor, observers=observers)
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

    def late_enqueue_target(self) -> Scope:
        """After the handler ended, its tasks' enqueues go to the tick."""
        return self.tick

    def __repr__(self) -> str:
        return f"<handler {self.label}>"
