"""``blocks_grown``: what a reference-count check of the compiled kernel measures.

A body that allocates and frees the same objects each time leaves ``sys.getallocatedblocks()``
flat; a missing ``Py_DECREF`` in C leaves a block (or more) behind per run.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

__all__ = ["blocks_grown"]


def blocks_grown(run: Callable[[int], None], warm: int, measured: int) -> int:
    """The blocks still allocated after ``run(measured)``, once ``run(warm)`` warmed up."""
    run(warm)
    gc.collect()
    before = sys.getallocatedblocks()
    run(measured)
    gc.collect()
    return sys.getallocatedblocks() - before
