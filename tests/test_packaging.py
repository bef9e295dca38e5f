"""What ``python -m build`` makes: a wheel with only the project's packages, an sdist that can
run the test suite, both passing ``twine check``; public names as users see them."""

from __future__ import annotations

import pickle
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from docs_pages import extract_blocks

import airlock
from airlock import _errors

ROOT = Path(__file__).resolve().parent.parent
#: what a test run from the unpacked sdist needs besides the packages
SUITE = ("tests", "benchmarks", "docs", "demos", "adapters", "airlock")
SUITE_FILES = ("conftest.py", "pyproject.toml", "mkdocs.yml", "README.md", "CHANGELOG.md",
               "LICENSE", "DEVELOPERS.md")
PACKAGES = {"airlock", "airlock_pygame", "airlock_textual"}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, as ``python -m build`` makes them (without a
    fresh build environment: the dev extra installs the build requirements)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "!!" not in done.stdout + done.stderr, "setuptools printed a deprecation notice"
    return out


def _one(dist: Path, pattern: str) -> Path:
    (found,) = dist.glob(pattern)
    return found


def test_the_wheel_installs_only_project_named_packages(dist: Path) -> None:
    with zipfile.ZipFile(_one(dist, "*.whl")) as wheel:
        names = wheel.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        top_level = wheel.read(f"{info}/top_level.txt").decode().split()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert {name.split("/")[0] for name in names} == PACKAGES | {info}
    assert set(top_level) == PACKAGES
    assert not [n for n in names if "/tests/" in n or "benchmarks" in n or "demos" in n]
    assert "[pytest11]\nairlock = airlock.pytest_plugin" in entry_points
    assert "airlock/py.typed" in names and "airlock_pygame/py.typed" in names


def _tracked() -> set[str]:
    """The repository's files (git's list in a checkout, else the files on disk)."""
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if done.returncode == 0 and done.stdout:
        return {path for path in done.stdout.split("\n") if path and (ROOT / path).is_file()}
    return {p.relative_to(ROOT).as_posix() for part in SUITE for p in (ROOT / part).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_sdist_holds_what_the_test_suite_needs(dist: Path) -> None:
    with tarfile.open(_one(dist, "*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    needed = {path for path in _tracked() if path.split("/")[0] in SUITE}
    needed |= set(SUITE_FILES)
    assert not sorted(needed - names), "missing from the sdist (see MANIFEST.in)"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_both_pass_twine_check(dist: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir()))],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


@pytest.mark.parametrize("name", _errors.__all__)
def test_public_exceptions_are_named_as_exported(name: str) -> None:
    error = getattr(airlock, name)
    assert error is getattr(_errors, name)
    assert f"{error.__module__}.{error.__qualname__}" == f"airlock.{name}"
    assert repr(error("x")) == f"{name}('x')"
    assert pickle.loads(pickle.dumps(error("x"))).args == ("x",)


def test_every_exception_airlock_exports_reads_airlock_dot_name() -> None:
    exported = [getattr(airlock, n) for n in airlock.__all__]
    errors = [e for e in exported if isinstance(e, type) and issubclass(e, BaseException)]
    assert errors and all(e.__module__ == "airlock" for e in errors), [
        f"{e.__module__}.{e.__qualname__}" for e in errors if e.__module__ != "airlock"
    ]


def test_the_readme_commands_make_and_use_a_venv_and_ci_runs_the_test_one() -> None:
    """A PEP 668 system python refuses ``pip install`` outside a venv: each README command
    creates ``.venv`` and runs pip and python from it; CI runs the test command verbatim."""
    commands = [b.source.strip() for b in extract_blocks((ROOT / "README.md").read_text())
                if b.language == "sh" and "pip install" in b.source]
    assert len(commands) == 2, commands
    for command in commands:
        steps = [step.strip() for step in command.split("&&")]
        assert steps[0] == "python3 -m venv .venv", command
        assert all(step.startswith(".venv/bin/") for step in steps[1:]), command
    assert commands[1].endswith(".venv/bin/python -m pytest")
    assert commands[1] in (ROOT / ".ci" / "run").read_text().splitlines()
