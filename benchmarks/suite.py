"""What the pytest suite measures: one shared set of contenders and the cases they can run."""

from __future__ import annotations

import functools
from typing import Any

from .contenders import Contender, make_contenders
from .workloads import WORKLOADS

__all__ = ["cases", "suite_contenders"]


@functools.cache
def suite_contenders() -> tuple[dict[str, Contender], dict[str, str]]:
    """The contenders by name (not opened) and the unavailable ones with reasons."""
    contenders, unavailable = make_contenders()
    return {c.name: c for c in contenders}, unavailable


def cases() -> list[tuple[str, int, str]]:
    """Every (workload, param, contender) the suite benchmarks."""
    contenders, _ = suite_contenders()
    return [
        (w.name, param, name)
        for w in WORKLOADS
        for param in w.params
        for name, c in contenders.items()
        if c.supports(w.name)
    ]


def case_id(case: Any) -> str:
    workload, param, name = case
    return f"{workload}-{param}-{name.replace(' ', '_')}"
