"""The empty-frame yardstick: a bare ``ContextVar.set`` + ``reset``."""

from __future__ import annotations

from contextvars import ContextVar

from ..effects import Effect
from .base import Contender, Frame

__all__ = ["ContextVarSetReset"]


class ContextVarSetReset(Contender):
    name = "ContextVar set+reset"
    note = "token = var.set(x); var.reset(token) — what any scope must at least pay"

    def w_empty(self, k: int, effect: Effect) -> Frame:
        var: ContextVar[object] = ContextVar("bench_frame", default=None)
        set_, reset = var.set, var.reset

        def frame() -> None:
            reset(set_(frame))

        return frame
