"""``interrupt_at``: a KeyboardInterrupt delivered at one line of airlock's pure code, as a
Ctrl-C landing there would be.

A trace function stops at the line and raises ``SIGUSR1``, whose handler (installed for the
duration) raises ``KeyboardInterrupt``: Python runs it at the next bytecode boundary of the
traced frame, which is how a real signal's exception arrives.
"""

from __future__ import annotations

import inspect
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any

__all__ = ["code_of_closure", "interrupt_at"]


def code_of_closure(outer: Callable[..., Any], name: str) -> CodeType:
    """The code of the function ``name`` defined inside ``outer``."""
    for const in outer.__code__.co_consts:
        if isinstance(const, CodeType) and const.co_name == name:
            return const
    raise AssertionError(f"{outer.__qualname__} defines no {name} any more: update the test")


@contextmanager
def interrupt_at(where: Callable[..., Any] | CodeType, marker: str,
                 outer: Callable[..., Any] | None = None) -> Iterator[list[bool]]:
    """Interrupt the first run of the line of ``where`` (a function, or a closure's code
    found in ``outer``) that contains ``marker``; the yielded list holds True once it fired."""
    code = where if isinstance(where, CodeType) else where.__code__
    source = outer if outer is not None else where
    lines, first = inspect.getsourcelines(source)  # type: ignore[arg-type]
    found = [first + n for n, text in enumerate(lines) if marker in text]
    assert found, f"{marker!r} is no longer in the code: update the test"
    line = found[0]
    fired: list[bool] = []

    def local(frame: FrameType, event: str, arg: object) -> Any:
        if event == "line" and frame.f_lineno == line and not fired:
            fired.append(True)
            signal.raise_signal(signal.SIGUSR1)
        return local

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code is code else None

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"delivered at {marker!r}")

    previous = signal.signal(signal.SIGUSR1, interrupt)
    sys.settrace(tracer)
    try:
        yield fired
    finally:
        sys.settrace(None)
        signal.signal(signal.SIGUSR1, previous)
