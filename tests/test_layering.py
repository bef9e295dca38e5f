"""The core's import graph: no cycles, layers as DEVELOPERS.md lists them, nothing from
``integrations`` or the adapters, and no module over 500 lines.

Every import counts, at module level or inside a function, except those under
``if TYPE_CHECKING:`` (annotations only). DEVELOPERS.md states the layering these keep.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import airlock

PACKAGE = Path(airlock.__file__).parent
#: the core: the package's own modules (not ``integrations``, not the plugins built on it)
CORE = sorted(
    path.stem for path in PACKAGE.glob("*.py")
    if path.stem.startswith("_") and path.stem != "__main__"
)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path) -> set[str]:
    """Absolute dotted names of the modules ``path`` imports at run time."""
    package = "airlock" if path.parent == PACKAGE else None
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    assert package is not None
                    base = package.rsplit(".", child.level - 1)[0]
                    module = f"{base}.{child.module}" if child.module else base
                else:
                    module = child.module or ""
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def core_graph() -> dict[str, set[str]]:
    """``{module: core modules it imports}`` over the core (``__init__`` included)."""
    graph: dict[str, set[str]] = {}
    for name in [*CORE, "__init__"]:
        imported = imports_of(PACKAGE / f"{name}.py")
        graph[name] = {
            other for other in CORE if f"airlock.{other}" in imported and other != name
        }
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for other in sorted(graph.get(node, ())):
            if state.get(other) == 1:
                return [*path[path.index(other):], other]
            if other not in state and (cycle := walk(other)) is not None:
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)) is not None:
            return cycle
    return None


def test_the_core_has_no_import_cycle() -> None:
    cycle = find_cycle(core_graph())
    assert cycle is None, "import cycle in airlock/: " + " -> ".join(cycle or ())


def test_the_core_imports_nothing_from_integrations_plugins_or_adapters() -> None:
    outside = ("airlock.integrations", "airlock.testing", "airlock.pytest_plugin",
               "airlock.flake8_plugin", "airlock_pygame", "airlock_textual", "pygame", "textual")
    for name in [*CORE, "__init__"]:
        imported = imports_of(PACKAGE / f"{name}.py")
        bad = sorted(i for i in imported if i.startswith(outside))
        assert not bad, f"airlock/{name}.py imports {bad}: the core must not depend on them"


def test_the_core_uses_only_the_standard_library() -> None:
    import sys

    for name in [*CORE, "__init__"]:
        for module in imports_of(PACKAGE / f"{name}.py"):
            top = module.split(".")[0]
            assert top == "airlock" or top in sys.stdlib_module_names, (name, module)


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_function_level_imports_count(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import hidden\n"
        "def f():\n    import inner\n",
        encoding="utf-8",
    )
    found = imports_of(module)
    assert "inner" in found and "hidden" not in found


def documented_layers() -> dict[str, int]:
    """``{module: layer}`` as DEVELOPERS.md's "Layering rule" numbers them (a module is named
    outside parentheses; what parentheses name is a note)."""
    text = (PACKAGE.parent / "DEVELOPERS.md").read_text(encoding="utf-8")
    section = text.split("## Layering rule", 1)[1].split("then the public feature modules")[0]
    layers: dict[str, int] = {}
    for number, item in re.findall(r"^(\d+)\. (.*?)(?=^\d+\. |\Z)", section, re.M | re.S):
        while (bare := re.sub(r"\([^()]*\)", "", item)) != item:
            item = bare
        for name in re.findall(r"`(_\w+)`", item):
            layers[name] = int(number)
    return layers


def test_every_core_module_imports_only_from_earlier_layers() -> None:
    layers = documented_layers()
    assert set(CORE) | {"__init__"} <= set(layers), (
        f"not placed in DEVELOPERS.md's layers: {sorted(set(CORE) - set(layers))}"
    )
    for name, imported in core_graph().items():
        later = sorted(other for other in imported if layers[other] >= layers[name])
        assert not later, f"airlock/{name}.py (layer {layers[name]}) imports {later}"


def test_no_core_module_is_over_500_lines() -> None:
    long = {
        name: lines for name in CORE
        if (lines := len((PACKAGE / f"{name}.py").read_text(encoding="utf-8").splitlines())) > 500
    }
    assert not long, f"split these modules (one concept each): {long}"
