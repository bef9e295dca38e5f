"""The Textual adapter needs nothing private from the core (issue 15).

It uses airlock's public API and the extension points scopes offer (``set_current_scope``,
``reset_current_scope``, ``Scope.late_enqueue_target``, ``Scope.enqueue_refused``): no import
of a private ``airlock._module`` or name, and no use or override of a private attribute of
the core's classes. These checks read the adapter's source, so any such use that comes back
fails here, wherever it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import airlock
import airlock_textual

ADAPTER = Path(airlock_textual.__file__).resolve().parent
SOURCES = sorted(ADAPTER.glob("*.py"))
#: private names of the core classes an adapter could subclass or touch
CORE_PRIVATE = {
    name
    for cls in (airlock.Scope, airlock.TickScope, airlock.Observer, airlock.Policy, airlock.Intent)
    for name in dir(cls)
    if name.startswith("_") and not name.startswith("__")
}


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_core_uses(source: str) -> list[str]:
    """Each private core import, private core name and private core attribute in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            parts = [a.name.split(".") for a in node.names]
            found += [f"import {'.'.join(p)}" for p in parts
                      if p[0] == "airlock" and any(map(_private, p))]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "airlock":
            module = node.module or ""
            if any(map(_private, module.split("."))):
                found.append(f"from {module} import ...")
            found += [f"from {module} import {a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and node.attr in CORE_PRIVATE:
            found.append(f"attribute {node.attr} (line {node.lineno})")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in CORE_PRIVATE:
            found.append(f"def {node.name} (line {node.lineno}): overrides a core internal")
    return found


def test_the_core_has_private_names_to_look_for() -> None:
    """The check below is not vacuous: the core's classes do have private attributes."""
    assert {"_enqueue_inactive", "_release", "_buffer"} <= CORE_PRIVATE
    assert len(SOURCES) >= 8


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_adapter_uses_nothing_private_from_the_core(path: Path) -> None:
    assert private_core_uses(path.read_text(encoding="utf-8")) == [], (
        f"{path.name} reaches into the core's internals; use the public extension API "
        "(airlock.set_current_scope, Scope.late_enqueue_target, Scope.enqueue_refused)"
    )


@pytest.mark.parametrize(
    "source",
    [
        "from airlock._context import current_target",
        "import airlock._scope",
        "from airlock import _scope",
        "class T(airlock.TickScope):\n    def _enqueue_inactive(self, task, *rest): ...",
        "def late(self, task):\n    self.tick._enqueue_inactive(task, (), {}, None, ())",
    ],
)
def test_the_check_catches_each_kind_of_private_use(source: str) -> None:
    """What the adapter did before the public API (each line fails the check)."""
    assert private_core_uses(source) != []
