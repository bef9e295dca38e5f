"""The contenders, in report order. The peer is left out (with a reason) if it cannot load.

The asyncio contender is imported only by ``make_contenders()``: importing asyncio is a third
of the start-up of ``python -m benchmarks.instructions``' child processes under valgrind.
"""

from __future__ import annotations

from .._peer import peer_or_none
from .base import Contender, Frame
from .contextvar_baseline import ContextVarSetReset
from .handwritten import HandWrittenScope
from .ours import AirlockScope, AirlockTick, AirlockTickPure
from .peer import AirlockPy
from .pygame_queue import PygameQueue
from .raw import Raw

__all__ = [
    "ASYNCIO",
    "CONTEXTVAR",
    "HANDWRITTEN",
    "PEER",
    "PYGAME",
    "RAW",
    "SCOPE",
    "TICK",
    "TICK_PURE",
    "Contender",
    "Frame",
    "make_contenders",
]

RAW = Raw.name
HANDWRITTEN = HandWrittenScope.name
TICK = AirlockTick.name
TICK_PURE = AirlockTickPure.name
SCOPE = AirlockScope.name
PEER = AirlockPy.name
PYGAME = PygameQueue.name
ASYNCIO = "asyncio call_soon"  # AsyncioLoop.name (checked by benchmarks/test_timing.py)
CONTEXTVAR = ContextVarSetReset.name


def make_contenders() -> tuple[list[Contender], dict[str, str]]:
    """Fresh contenders (not yet opened) and ``{name: reason}`` for those unavailable."""
    peer, reason = peer_or_none()
    contenders: list[Contender] = [
        Raw(), HandWrittenScope(), AirlockTick(), AirlockTickPure(), AirlockScope()
    ]
    unavailable: dict[str, str] = {}
    if peer is not None:
        contenders.append(AirlockPy(peer))
    else:
        unavailable[PEER] = reason
    from .asyncio_loop import AsyncioLoop

    contenders += [PygameQueue(), AsyncioLoop(), ContextVarSetReset()]
    return contenders, unavailable
