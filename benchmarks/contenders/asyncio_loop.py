"""asyncio: ``loop.call_soon(fn, ...)`` per effect and one loop iteration per frame."""

from __future__ import annotations

import asyncio

from ..effects import Effect
from .base import Contender, Frame

__all__ = ["AsyncioLoop"]


class AsyncioLoop(Contender):
    name = "asyncio call_soon"
    note = "loop.call_soon(fn, arg); then loop.stop() + loop.run_forever() (one iteration)"

    def open(self) -> None:
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.close()

    def w_intents(self, k: int, effect: Effect) -> Frame:
        call_soon, stop, run = self.loop.call_soon, self.loop.stop, self.loop.run_forever

        def frame() -> None:
            for i in range(k):
                call_soon(effect, i)
            stop()
            run()

        return frame

    def w_empty(self, k: int, effect: Effect) -> Frame:
        stop, run = self.loop.stop, self.loop.run_forever

        def frame() -> None:
            stop()
            run()

        return frame
