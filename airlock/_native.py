"""The compiled kernel, if it runs: ``airlock._speedups``, or None for the pure core.

Decided once, at the first call: the extension is used unless ``AIRLOCK_NO_EXTENSIONS`` is set
to a non-empty value (the aio-libs convention), the interpreter is not CPython (PyPy runs the
pure core), or the extension is absent (built without a compiler, or with the switch set). Its
module imports the core's modules when it loads: call this once they are imported (``_kernel``
does, at the end of ``airlock``'s own import; ``_frame`` when a tick is made).
"""

from __future__ import annotations

import functools
import os
import platform
from types import ModuleType

__all__ = ["speedups"]


@functools.cache
def speedups() -> ModuleType | None:
    """``airlock._speedups``, or None where the pure core must run."""
    if os.environ.get("AIRLOCK_NO_EXTENSIONS") or platform.python_implementation() != "CPython":
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    return _speedups
