"""Which implementation runs: the compiled kernel (``airlock._speedups``) or the pure core.

Decided once, at import. The compiled ``enqueue`` is used unless ``AIRLOCK_NO_EXTENSIONS`` is
set to a non-empty value (the aio-libs convention), the interpreter is not CPython (PyPy runs
the pure core), or the extension is absent (built without a compiler, or with the switch set).
The pure core is the reference: the kernel does the plain path itself and hands every other
call to ``airlock._enqueue.enqueue`` unchanged, so both behave the same.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from typing import TYPE_CHECKING

from . import _enqueue

__all__ = ["compiled", "enqueue"]


def _load_speedups() -> Callable[..., None] | None:
    """The ``enqueue`` of the compiled kernel, or None where the pure core must run."""
    if os.environ.get("AIRLOCK_NO_EXTENSIONS") or platform.python_implementation() != "CPython":
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    return _speedups.enqueue


_compiled_enqueue = _load_speedups()
compiled: bool = _compiled_enqueue is not None
"""True when ``airlock.enqueue`` is the optional compiled kernel's (``airlock._speedups``),
False when the pure-Python core runs it. Both behave the same; ``AIRLOCK_NO_EXTENSIONS=1`` in
the environment before ``import airlock`` picks the pure core."""

if TYPE_CHECKING:
    from ._enqueue import enqueue
else:
    enqueue = _compiled_enqueue or _enqueue.enqueue
