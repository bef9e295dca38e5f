"""The installed airlock-tick runs its compiled kernel: cibuildwheel's test of each wheel
(``test-command`` in pyproject.toml); ``tests/test_packaging.py`` runs it on an install of
the sdist. Exits non-zero, naming the file it imported, when ``airlock.compiled`` is False or
a frame does not run in the kernel. Run it from outside the source tree (it would import
the checkout's ``airlock``)."""

from __future__ import annotations

import sys

import airlock


def main() -> int:
    if not airlock.compiled:
        print(f"airlock.compiled is False: {airlock.__file__} runs the pure-Python core "
              "(no airlock._speedups, or AIRLOCK_NO_EXTENSIONS is set)", file=sys.stderr)
        return 1
    log: list[int] = []
    tick = airlock.tick_scope()
    with tick:
        airlock.enqueue(log.append, 1)
    tick.close()
    if log != [1] or not repr(tick.__exit__).startswith("<compiled "):
        print(f"a frame did not run in the kernel: {log}, {tick.__exit__!r}", file=sys.stderr)
        return 1
    print(f"airlock.compiled is True ({airlock.__file__})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
