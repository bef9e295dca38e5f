"""This project: ``airlock.enqueue`` in a reused ``tick_scope()`` or a new ``scope()`` per frame;
the tick also on the pure core (``AirlockTickPure``), beside the compiled kernel in one run."""

from __future__ import annotations

from typing import Any

import airlock

from ..bodies import Body, enqueue_k, enqueue_keyed, enqueue_phased, nested_levels, under
from ..cores import core
from ..effects import PHASES, Effect
from .base import Contender, Frame

__all__ = ["AirlockScope", "AirlockTick", "AirlockTickPure"]


class _Airlock(Contender):
    """Shared by both ways of opening a frame; ``reuse`` picks the tick."""

    reuse = True

    def framed(self, body: Body, **options: Any) -> Frame:
        """One frame: open (the tick, or a new scope with ``options``), run ``body``, flush."""
        if self.reuse:
            tick = airlock.tick_scope(**options)

            def tick_frame() -> None:
                with tick:
                    body()

            return tick_frame
        scope = airlock.scope

        def scope_frame() -> None:
            with scope(**options):
                body()

        return scope_frame

    def w_intents(self, k: int, effect: Effect) -> Frame:
        enqueue = airlock.enqueue
        if self.reuse:
            tick = airlock.tick_scope()

            def tick_frame() -> None:
                with tick:
                    for i in range(k):
                        enqueue(effect, i)

            return tick_frame
        scope = airlock.scope

        def scope_frame() -> None:
            with scope():
                for i in range(k):
                    enqueue(effect, i)

        return scope_frame

    def w_empty(self, k: int, effect: Effect) -> Frame:
        """``with tick: pass`` (or ``with scope(): pass``): the frame and nothing else."""
        if self.reuse:
            tick = airlock.tick_scope()

            def tick_frame() -> None:
                with tick:
                    pass

            return tick_frame
        scope = airlock.scope

        def scope_frame() -> None:
            with scope():
                pass

        return scope_frame

    def w_nested(self, depth: int, effect: Effect) -> Frame:
        return self.framed(nested_levels(airlock.scope, airlock.enqueue, effect, depth))

    def w_drop(self, k: int, effect: Effect) -> Frame:
        return self.framed(enqueue_k(airlock.enqueue, effect, k), policy=airlock.DropAll())

    def w_local_drop(self, k: int, effect: Effect) -> Frame:
        drop = airlock.DropAll()
        body = under(lambda: airlock.policy(drop), enqueue_k(airlock.enqueue, effect, k))
        return self.framed(body)

    def w_coalesce(self, k: int, effect: Effect) -> Frame:
        return self.framed(enqueue_keyed(airlock.enqueue, effect, k))

    def w_batch(self, k: int, effect: Effect) -> Frame:
        send: Any = airlock.batch(effect)  # a Batch is enqueued, not called
        return self.framed(enqueue_k(airlock.enqueue, send, k))

    def w_ordered(self, k: int, effect: Effect) -> Frame:
        body = enqueue_phased(airlock.enqueue, effect, k)
        return self.framed(body, order_by=airlock.by_phase(*PHASES))

    def w_observed(self, k: int, effect: Effect) -> Frame:
        body = enqueue_k(airlock.enqueue, effect, k)
        return self.framed(body, observers=[airlock.Observer()])


class AirlockTick(_Airlock):
    name = "airlock tick"
    note = "airlock.enqueue inside one reused airlock.tick_scope()"
    reuse = True


class AirlockTickPure(AirlockTick):
    """The tick on the pure-Python core in this process: its frames are built under
    ``core(False)`` (``airlock.enqueue`` and the tick's frames in Python), what
    ``AIRLOCK_NO_EXTENSIONS=1`` runs. Only the per-intent chart's workloads."""

    name = f"{AirlockTick.name} (pure)"
    note = ("the same on the pure-Python core (the compiled kernel switched off for its "
            "frames; where the kernel is not built, both run the pure core)")
    workloads = ("intents", "empty")

    def supports(self, workload: str) -> bool:
        return workload in self.workloads and super().supports(workload)

    def build(self, workload: str, param: int, effect: Effect) -> Frame:
        with core(compiled=False):
            return super().build(workload, param, effect)


class AirlockScope(_Airlock):
    name = "airlock scope"
    note = "airlock.enqueue inside a fresh airlock.scope() per frame"
    reuse = False
