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

import functools
from collections.abc import Callable, Iterable
from typing import cast

import airlock
from airlock import Executor, Observer, Policy, Scope, TickScope

__all__ = ["HandlerScope", "scope_factory"]


class HandlerScope(Scope):
    """The scope of one message handled by one pump (``repr``: ``Pump.handler_name``). Made by
    a ``scope_factory``: it keeps Scope's constructor, so the compiled kernel builds the
    common one."""

    __slots__ = ("handler_name", "pump", "tick")

    tick: TickScope
    pump: object
    handler_name: str

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


def scope_factory(
    policy: Policy | None = None,
    *,
    executor: Executor | None = None,
    observers: Iterable[Observer] = (),
) -> Callable[[], HandlerScope]:
    """What builds a handler's scope (its ``tick``, ``pump`` and ``handler_name`` are the
    caller's to set). With no arguments, the core's cheapest scope
    (``airlock.scope(_cls=HandlerScope)``, a C call with the kernel: the driver asks for it
    only while no ``scope_kwargs`` are configured); else a scope with these."""
    if policy is None and executor is None and not observers:
        scope = airlock.scope

        def new_scope() -> HandlerScope:  # (a partial with a keyword: +80 ns a message)
            return cast("HandlerScope", scope(_cls=HandlerScope))

        return new_scope
    return functools.partial(HandlerScope, policy, executor=executor, observers=observers)
