"""Lint for code that bypasses airlock: a flake8 plugin, a function and a command line.

AIR001  ``task.delay(...)`` or ``task.apply_async(...)`` — dispatches a task at once, outside
        any scope. Fix: ``airlock.enqueue(task, *args, **kwargs)`` (options:
        ``_dispatch_options={...}``), flushed through an executor such as ``celery_executor``.
AIR002  an ``import`` inside a function — the dependency is hidden from readers and tools, and
        the import runs on every call path that reaches it. Fix: import at module level.

flake8 finds the plugin by itself (entry point ``AIR``): ``flake8 --select AIR src/``. Without
flake8: ``python -m airlock.flake8_plugin FILE_OR_DIR...`` (exit 1 on findings), or the
``airlock`` pre-commit hook. A deliberate line keeps ``# noqa: AIR001`` (or ``# noqa``).
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from . import __version__

__all__ = ["AirlockChecker", "Finding", "check_file", "main"]

_DISPATCH_METHODS = frozenset(("delay", "apply_async"))
AIR001 = (
    "AIR001 .{method}() dispatches a task immediately, bypassing airlock; use "
    "airlock.enqueue(task, *args, **kwargs) (options: _dispatch_options={{...}}) so the "
    "enclosing scope decides when it runs"
)
AIR002 = (
    "AIR002 import inside a function hides a dependency and runs on every call; import at "
    "module level"
)
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z0-9, ]+))?", re.IGNORECASE)

#: (line, column, message) of one finding; ``message`` starts with its code.
Finding = tuple[int, int, str]


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._function_depth = 0

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _DISPATCH_METHODS:
            self.findings.append(
                (node.lineno, node.col_offset, AIR001.format(method=func.attr))
            )
        self.generic_visit(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._function_depth += 1
        self.generic_visit(node)
        self._function_depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _visit_function

    def _visit_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if self._function_depth:
            self.findings.append((node.lineno, node.col_offset, AIR002))

    visit_Import = visit_ImportFrom = _visit_import


def _findings(tree: ast.AST) -> list[Finding]:
    visitor = _Visitor()
    visitor.visit(tree)
    return sorted(visitor.findings)


class AirlockChecker:
    """The flake8 checker: one pass over the module's AST."""

    name = "airlock-tick"
    version = __version__

    def __init__(self, tree: ast.AST) -> None:
        self.tree = tree

    def run(self) -> Iterator[tuple[int, int, str, type[Any]]]:
        for line, col, message in _findings(self.tree):
            yield line, col, message, type(self)


def _silenced(line: str, code: str) -> bool:
    match = _NOQA.search(line)
    if match is None:
        return False
    codes = match.group("codes")
    return codes is None or code in {c.strip().upper() for c in codes.split(",")}


def check_file(path: str | Path, source: str | None = None) -> list[Finding]:
    """The findings in one file (``source`` instead of its contents, if given), ``# noqa``
    honoured. A file that does not parse raises ``SyntaxError``."""
    if source is None:
        source = Path(path).read_text(encoding="utf-8")
    lines = source.splitlines()
    return [
        (line, col, message)
        for line, col, message in _findings(ast.parse(source, filename=str(path)))
        if not (line <= len(lines) and _silenced(lines[line - 1], message.split(" ", 1)[0]))
    ]


def _python_files(paths: Sequence[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if p.is_file())
        else:
            yield path


def main(argv: Sequence[str] | None = None) -> int:
    """Check files and directories; print ``path:line:col: CODE message`` per finding.
    Exit status 1 when anything was found (or could not be read), else 0."""
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m airlock.flake8_plugin FILE_OR_DIR...", file=sys.stderr)
        return 2
    status = 0
    for path in _python_files(paths):
        try:
            findings = check_file(path)
        except (OSError, SyntaxError, UnicodeDecodeError) as exc:
            print(f"{path}: cannot check: {exc}", file=sys.stderr)
            status = 1
            continue
        for line, col, message in findings:
            print(f"{path}:{line}:{col + 1}: {message}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
