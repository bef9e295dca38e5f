"""List the demos, or run one: ``python -m demos [NAME [ARGS...]]``."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from types import ModuleType


def _demos() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"demos.{info.name}")
        if hasattr(module, "main") and hasattr(module, "SUMMARY"):
            found[info.name] = module
    return found


def missing(demo: ModuleType) -> list[str]:
    """The modules ``demo`` needs that cannot be imported here."""
    return [name for name in demo.REQUIRES if importlib.util.find_spec(name) is None]


def install_hint(demo: ModuleType) -> str:
    """The command that installs what ``demo`` needs (its own extra, or every demo's)."""
    return (f'pip install "airlock-tick[{demo.EXTRA}]" (every demo: "airlock-tick[demos]"; '
            f'from a checkout: pip install -e ".[demos]")')


def main(argv: list[str]) -> int:
    demos = _demos()
    if not argv or argv[0] in ("-h", "--help", "list"):
        print("Demos (run one with: python -m demos NAME [--help]):")
        for name, module in sorted(demos.items()):
            absent = missing(module)
            note = (f' [needs {", ".join(absent)}: pip install "airlock-tick[{module.EXTRA}]"]'
                    if absent else "")
            print(f"  {name:<14} {module.SUMMARY}{note}")
        return 0
    name, *rest = argv
    if name not in demos:
        print(f"unknown demo {name!r}; choose one of: {', '.join(sorted(demos))}", file=sys.stderr)
        return 2
    demo = demos[name]
    absent = missing(demo)
    if absent:
        print(f"the {name} demo needs {', '.join(absent)}, which is not installed: "
              f"{install_hint(demo)}", file=sys.stderr)
        return 2
    return int(demo.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
