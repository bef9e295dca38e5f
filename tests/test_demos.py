"""``python -m demos``: listing needs no framework; a demo whose framework is missing names
the extra to install instead of ending in a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: run ``python -m demos ARGS`` as if neither pygame nor Textual were installed
WITHOUT_FRAMEWORKS = """
import runpy, sys
for name in ("pygame", "textual"):
    sys.modules[name] = None  # import fails, find_spec finds nothing: as if not installed
sys.argv = ["demos", *sys.argv[1:]]
runpy.run_module("demos", run_name="__main__", alter_sys=True)
"""


def run_demos(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", WITHOUT_FRAMEWORKS, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_listing_works_without_any_framework() -> None:
    done = run_demos()
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    asteroids = next(line for line in lines if line.strip().startswith("asteroids"))
    board = next(line for line in lines if line.strip().startswith("board"))
    assert 'needs pygame: pip install "airlock-tick[pygame]"' in asteroids
    assert 'needs textual: pip install "airlock-tick[textual]"' in board


def test_a_demo_without_its_framework_names_the_extra() -> None:
    for demo, extra in (("asteroids", "pygame"), ("board", "textual")):
        done = run_demos(demo, "--help")
        assert done.returncode == 2
        assert "Traceback" not in done.stderr, done.stderr
        assert f"the {demo} demo needs {extra}, which is not installed" in done.stderr
        assert f'pip install "airlock-tick[{extra}]"' in done.stderr
        assert '"airlock-tick[demos]"' in done.stderr


def test_unknown_demo_lists_the_known_ones() -> None:
    done = run_demos("nope")
    assert done.returncode == 2
    assert "unknown demo 'nope'; choose one of: asteroids, board" in done.stderr
