"""flake8 plugin: flag task calls that bypass airlock (registered as the ``AIR`` entry point).

AIR001  ``x.delay(...)``        — dispatches a task immediately, outside any scope.
AIR002  ``x.apply_async(...)``  — the same, with options.

Fix: ``airlock.enqueue(task, *args)`` (options: ``_dispatch_options={...}``) and flush through
an executor such as ``celery_executor``. Silence a deliberate call with ``# noqa: AIR001``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from .. import __version__

__all__ = ["AirlockChecker"]

_MESSAGES = {
    "delay": (
        "AIR001 .delay() dispatches a task immediately, bypassing airlock; use "
        "airlock.enqueue(task, *args, **kwargs) so the enclosing scope decides when it runs"
    ),
    "apply_async": (
        "AIR002 .apply_async() dispatches a task immediately, bypassing airlock; use "
        "airlock.enqueue(task, *args, _dispatch_options={...}, **kwargs) instead"
    ),
}


class AirlockChecker:
    """The flake8 checker: one pass over the module's AST."""

    name = "airlock-tick"
    version = __version__

    def __init__(self, tree: ast.AST) -> None:
        self.tree = tree

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        for node in ast.walk(self.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _MESSAGES
            ):
                yield node.lineno, node.col_offset, _MESSAGES[node.func.attr], type(self)
