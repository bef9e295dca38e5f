"""List the demos, or run one: ``python -m demos [NAME [ARGS...]]``."""

from __future__ import annotations

import importlib
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


def main(argv: list[str]) -> int:
    demos = _demos()
    if not argv or argv[0] in ("-h", "--help", "list"):
        print("Demos (run one with: python -m demos NAME [--help]):")
        for name, module in sorted(demos.items()):
            print(f"  {name:<14} {module.SUMMARY}")
        return 0
    name, *rest = argv
    if name not in demos:
        print(f"unknown demo {name!r}; choose one of: {', '.join(sorted(demos))}", file=sys.stderr)
        return 2
    return int(demos[name].main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
