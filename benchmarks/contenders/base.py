"""What a contender is: something that can build a one-frame callable for a workload."""

from __future__ import annotations

from collections.abc import Callable

from ..effects import Effect

__all__ = ["Contender", "Frame"]

Frame = Callable[[], None]


class Contender:
    """A way of buffering effects and running them once per frame.

    A subclass implements ``w_<workload>(param, effect) -> Frame`` for each workload it can do
    the same work for; the others are reported as not applicable.
    """

    name = "?"
    note = ""

    def open(self) -> None:
        """Acquire what frames need (a display, an event loop). Called once before building."""

    def close(self) -> None:
        """Release what ``open`` acquired."""

    def supports(self, workload: str) -> bool:
        return callable(getattr(self, "w_" + workload, None))

    def build(self, workload: str, param: int, effect: Effect) -> Frame:
        """A callable that runs one frame of ``workload`` at size ``param``."""
        method = getattr(self, "w_" + workload, None)
        if method is None:
            raise ValueError(f"{self.name} has no {workload!r} workload; check supports() first")
        frame: Frame = method(param, effect)
        return frame

    def __repr__(self) -> str:
        return f"<contender {self.name}>"
