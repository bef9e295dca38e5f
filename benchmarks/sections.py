"""Report sections measured by their own modules (features, fresh scopes, pygame, Textual...).

A module adds a part to ``python -m benchmarks.report`` by exposing a ``Section`` and listing
it in ``report.SECTIONS``. The report calls ``section.run(options, results)`` once, after the
workloads of ``benchmarks/compare.py`` (``results``; a section may read them instead of
measuring again), and puts the returned Markdown under ``## {title}`` and the checks in the
targets table, after the core ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .checks import Check
from .compare import Results

__all__ = ["RunOptions", "Section", "SectionResult"]


@dataclass(frozen=True)
class RunOptions:
    """How long the report measures: a section scales its own run the same way."""

    quick: bool = True
    rounds: int = 5
    sample_ms: float = 2.0
    clock: str = "cpu"


@dataclass
class SectionResult:
    markdown: str
    checks: list[Check] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    name: str  # for ``--sections``
    title: str  # its ``##`` heading in the report
    run: Callable[[RunOptions, Results], SectionResult]
