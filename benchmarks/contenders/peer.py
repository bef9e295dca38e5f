"""airlock-py 0.1.0a3 through its public API: ``scope``, ``enqueue``, ``policy``, ``DropAll``."""

from __future__ import annotations

from types import ModuleType

from .._peer import PEER_VERSION
from ..bodies import Body, enqueue_k, nested_levels, under
from ..effects import Effect
from .base import Contender, Frame

__all__ = ["AirlockPy"]


class AirlockPy(Contender):
    name = "airlock-py"
    note = f"airlock-py {PEER_VERSION} from PyPI: a fresh scope() per frame"

    def __init__(self, module: ModuleType) -> None:
        self.lib = module

    def framed(self, body: Body, **options: object) -> Frame:
        scope = self.lib.scope

        def frame() -> None:
            with scope(**options):
                body()

        return frame

    def w_intents(self, k: int, effect: Effect) -> Frame:
        scope, enqueue = self.lib.scope, self.lib.enqueue

        def frame() -> None:
            with scope():
                for i in range(k):
                    enqueue(effect, i)

        return frame

    def w_empty(self, k: int, effect: Effect) -> Frame:
        scope = self.lib.scope

        def frame() -> None:
            with scope():
                pass

        return frame

    def w_nested(self, depth: int, effect: Effect) -> Frame:
        return self.framed(nested_levels(self.lib.scope, self.lib.enqueue, effect, depth))

    def w_drop(self, k: int, effect: Effect) -> Frame:
        return self.framed(enqueue_k(self.lib.enqueue, effect, k), policy=self.lib.DropAll())

    def w_local_drop(self, k: int, effect: Effect) -> Frame:
        drop, policy = self.lib.DropAll(), self.lib.policy
        return self.framed(under(lambda: policy(drop), enqueue_k(self.lib.enqueue, effect, k)))
