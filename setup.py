"""Build the optional compiled kernel, ``airlock._speedups`` (pyproject.toml holds the rest).

The extension is optional: without a working C compiler, on an interpreter other than
CPython, or with ``AIRLOCK_NO_EXTENSIONS`` set (non-empty), the install carries the pure-Python
core alone, which behaves the same. A failed build prints one line and never fails the install.
"""

from __future__ import annotations

import os
import platform
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """``build_ext`` that turns any failure to compile into one line on stderr."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # no compiler at all (setuptools' PlatformError, ...)
            _skipped(error)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as error:  # the compiler is missing or failed on this file
            _skipped(error)


def _skipped(error: BaseException) -> None:
    reason = " ".join(str(error).split()) or type(error).__name__
    print(f"airlock-tick: the compiled kernel (airlock._speedups) was not built ({reason}); "
          "installing the pure-Python core, which behaves the same", file=sys.stderr)


def _extensions() -> list[Extension]:
    if os.environ.get("AIRLOCK_NO_EXTENSIONS") or platform.python_implementation() != "CPython":
        return []
    return [Extension("airlock._speedups", ["airlock/_speedups.c"], optional=True)]


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
