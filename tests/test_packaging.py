"""What ``python -m build`` makes: a wheel with only the project's packages and the compiled
kernel, an sdist that can run the test suite and builds the kernel when pip installs it, both
passing ``twine check``; public names as users see them.

The wheels for PyPI are cibuildwheel's (``[tool.cibuildwheel]`` in pyproject.toml), which
cannot run here; its test of each wheel, ``.ci/check_kernel.py``, runs below on an install of
the sdist in a fresh venv.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import pickle
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from docs_pages import extract_blocks

import airlock
from airlock import _errors

ROOT = Path(__file__).resolve().parent.parent
#: the tests of the built sdist and wheel (a build, a venv, a pip install: CI's)
BUILDS = pytest.mark.ci_only("the sdist and wheel: built, checked and installed")
#: what a test run from the unpacked sdist needs besides the packages
SUITE = ("tests", "benchmarks", "docs", "demos", "adapters", "airlock")
SUITE_FILES = ("conftest.py", "pyproject.toml", "mkdocs.yml", "README.md", "CHANGELOG.md",
               "LICENSE", "DEVELOPERS.md", ".ci/run", ".ci/check_kernel.py")
PACKAGES = {"airlock", "airlock_pygame", "airlock_textual"}
#: what the sdist needs to build the compiled kernel
KERNEL_SOURCES = ("setup.py", "airlock/_speedups.c", "airlock/_speedups.pyi")
#: the compiled kernel in a wheel (a .so; a .pyd on Windows)
KERNEL_BINARY = re.compile(r"airlock/_speedups(\.[\w-]+)?\.(so|pyd)")


def _environment(**changes: str) -> dict[str, str]:
    """This environment without the checkout on the path nor the pure-core switch (the test
    run on the pure core sets it), with ``changes``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "AIRLOCK_NO_EXTENSIONS")}
    return {**env, **changes}


def _without_a_compiler() -> None:
    """Skip where no C compiler is found (the build then installs the pure core, by design),
    except in CI, which promises one; return where a compiler exists."""
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if os.name != "nt" and shutil.which(compiler) is None and not os.environ.get("CI"):
        pytest.skip(f"no C compiler ({compiler}) here: the build installs the pure core")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel built from it, as ``python -m build`` makes them (without a
    fresh build environment: the dev extra installs the build requirements)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False, env=_environment(),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "!!" not in done.stdout + done.stderr, "setuptools printed a deprecation notice"
    return out


def _one(dist: Path, pattern: str) -> Path:
    (found,) = dist.glob(pattern)
    return found


@BUILDS
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


@BUILDS
def test_the_wheel_carries_the_compiled_kernel(dist: Path) -> None:
    wheel_path = _one(dist, "*.whl")
    with zipfile.ZipFile(wheel_path) as wheel:
        names = wheel.namelist()
    kernels = [n for n in names if KERNEL_BINARY.fullmatch(n)]
    if not kernels:
        _without_a_compiler()
    assert len(kernels) == 1, names
    assert not wheel_path.name.endswith("-none-any.whl")  # tagged for this interpreter
    assert "airlock/_speedups.pyi" in names
    assert "airlock/_speedups.c" not in names  # the source is the sdist's


@BUILDS
def test_the_sdist_carries_the_kernel_source_and_no_binary(dist: Path) -> None:
    with tarfile.open(_one(dist, "*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert set(KERNEL_SOURCES) <= names
    assert not [n for n in names if n.endswith((".so", ".pyd", ".o"))]


def _tracked() -> set[str]:
    """The repository's files (git's list in a checkout, else the files on disk)."""
    done = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if done.returncode == 0 and done.stdout:
        return {path for path in done.stdout.split("\n") if path and (ROOT / path).is_file()}
    return {p.relative_to(ROOT).as_posix() for part in SUITE for p in (ROOT / part).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@BUILDS
def test_the_sdist_holds_what_the_test_suite_needs(dist: Path) -> None:
    with tarfile.open(_one(dist, "*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    needed = {path for path in _tracked() if path.split("/")[0] in SUITE}
    needed |= set(SUITE_FILES)
    assert not sorted(needed - names), "missing from the sdist (see MANIFEST.in)"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


@BUILDS
def test_both_pass_twine_check(dist: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir()))],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv's python, with the sdist installed by pip (which builds it: setup.py
    compiles the kernel) and nothing else. Offline: pip and the build backend are this
    environment's (``--no-build-isolation``), installing into the venv's site-packages."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120, env=_environment())
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", site.stdout.strip(), str(_one(dist, "*.tar.gz"))],
        capture_output=True, text=True, timeout=300, check=False, env=_environment(),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return python


def _run(python: Path, *args: str, cwd: Path | None = None, **env: str
         ) -> subprocess.CompletedProcess[str]:
    """``python *args`` outside the checkout (its ``airlock`` is not importable there)."""
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=120,
                          check=False, cwd=cwd or python.parent, env=_environment(**env))


@BUILDS
def test_pip_install_of_the_sdist_builds_the_kernel(installed: Path) -> None:
    where = "import airlock; print(airlock.compiled, airlock.__file__)"
    compiled, path = _run(installed, "-c", where).stdout.split()
    if compiled != "True":
        _without_a_compiler()
    assert compiled == "True"
    assert Path(path).is_relative_to(installed.parent.parent)  # the venv's, not the checkout's
    assert _run(installed, "-c", where, AIRLOCK_NO_EXTENSIONS="1").stdout.split() == [
        "False", path]


@BUILDS
def test_cibuildwheels_test_command_passes_on_the_install_and_fails_on_the_pure_core(
    installed: Path,
) -> None:
    """The command cibuildwheel runs on each wheel (read from pyproject.toml), on the sdist's
    install: it passes with the kernel, and fails where the pure core runs."""
    found = re.search(r'^test-command = "python \{project\}/(.+)"$',
                      (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert found is not None, "pyproject.toml: [tool.cibuildwheel] test-command"
    script = str(ROOT / found.group(1))
    passed = _run(installed, script)
    if passed.returncode != 0 and "compiled is False" in passed.stderr:
        _without_a_compiler()
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.startswith("airlock.compiled is True (")
    failed = _run(installed, script, AIRLOCK_NO_EXTENSIONS="1")
    assert failed.returncode == 1 and "airlock.compiled is False" in failed.stderr


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
    assert commands[1].endswith(".venv/bin/python -m pytest -n 4")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci
    # the README installs what the tests import; CI first adds the release checks' tools
    assert '-e ".[test]"' in commands[1]
    assert any('-e ".[dev]"' in line for line in ci[: ci.index(commands[1])])


def _root_conftest() -> Any:
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    assert spec is not None and spec.loader is not None
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    return root_conftest


class _Item:
    def __init__(self, mark: Any, nodeid: str = "tests/test_x.py::test_x") -> None:
        self.mark, self.added, self.nodeid = mark, [], nodeid

    def get_closest_marker(self, name: str) -> Any:
        return self.mark if self.mark is not None and self.mark.name == name else None

    def add_marker(self, mark: Any) -> None:
        self.added.append(mark.mark)


@pytest.mark.parametrize("ci", ["", "true"])
def test_a_ci_only_test_is_skipped_with_its_reason_unless_ci_is_set(
    ci: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", ci)
    marked = _Item(pytest.mark.ci_only("a release check").mark, "tests/test_a.py::test_a")
    plain = _Item(None, "tests/test_b.py::test_b")
    _root_conftest().pytest_collection_modifyitems(None, [marked, plain])
    assert plain.added == []
    if ci:
        assert marked.added == []
    else:
        (skip,) = marked.added
        assert skip.name == "skip" and skip.kwargs["reason"] == "CI runs this: a release check"


def test_the_workers_run_each_module_with_a_costly_fixture_whole(
    pytestconfig: pytest.Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``-n`` keeps each of ``ONE_WORKER_MODULES`` on one worker (its module fixture is made
    once) and spreads every other test on its own."""
    pytest.importorskip("xdist")
    root_conftest = _root_conftest()
    for module in root_conftest.ONE_WORKER_MODULES:
        assert (ROOT / module).is_file(), f"{module} (ONE_WORKER_MODULES) is not a test module"
    # (raising=False: without the xdist plugin loaded, the options are not there)
    monkeypatch.setattr(pytestconfig.option, "dist", "load", raising=False)
    monkeypatch.setattr(pytestconfig.option, "tx", ["4*popen"], raising=False)  # (``-n 4``)
    scheduler = root_conftest.pytest_xdist_make_scheduler(pytestconfig, None)
    assert scheduler._split_scope("tests/test_packaging.py::test_x[a]") == "tests/test_packaging.py"
    assert scheduler._split_scope("tests/test_tick.py::test_y") == "tests/test_tick.py::test_y"
    monkeypatch.setattr(pytestconfig.option, "dist", "loadfile")
    assert root_conftest.pytest_xdist_make_scheduler(pytestconfig, None) is None


def test_every_test_module_importing_an_optional_package_is_left_out_without_it() -> None:
    """A test module that imports an optional package at its top (or its folder) is listed in
    ``conftest.NEEDS``: without the package the run leaves it out and says so, instead of
    failing to collect."""
    root_conftest = _root_conftest()
    needs: dict[str, tuple[str, ...]] = root_conftest.NEEDS
    optional = {module for modules in needs.values() for module in modules}
    unlisted = set()
    for path in sorted([*ROOT.glob("tests/**/test_*.py"), *ROOT.glob("benchmarks/test_*.py")]):
        relative = path.relative_to(ROOT)
        listed = {module for part in [relative, *relative.parents]
                  for module in needs.get(part.as_posix(), ())}
        for node in ast.parse(path.read_text()).body:
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                top = name.partition(".")[0]
                if top in optional and top not in listed:
                    unlisted.add(f"{relative.as_posix()}: {top}")
    assert unlisted == set()


class _Reporter:
    """What ``pytest_terminal_summary`` writes to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.stats: dict[str, list[Any]] = {}

    def write_sep(self, sep: str, title: str, **markup: Any) -> None:
        self.lines.append(f"== {title}")

    def write_line(self, line: str) -> None:
        self.lines.append(line)


def test_a_run_without_the_integrations_extra_leaves_those_tests_to_ci() -> None:
    """The README's install has no Django, Celery...: the summary lists those modules among
    what it left to CI, not as missing; anything else missing is still named as untested."""
    root_conftest = _root_conftest()
    left_out = {"tests/integrations/test_integration_huey.py": ["huey"],
                "tests/integrations/test_integration_celery_redis.py": ["celery", "redis"],
                "tests/adapters/pygame_adapter": ["pygame"]}
    config = SimpleNamespace(stash={root_conftest.LEFT_OUT: left_out},
                             pluginmanager=SimpleNamespace(hasplugin=lambda name: False))
    reporter = _Reporter()
    root_conftest.pytest_terminal_summary(reporter, config)
    text = "\n".join(reporter.lines)
    assert "left to CI" in text and "the integration tests" in text and "(2 modules" in text
    untested = text.partition("NOT TESTED")[2]
    assert "tests/adapters/pygame_adapter: needs pygame" in untested
    assert "integrations" not in untested.partition("Install them")[0]
    # every framework the summary leaves to CI is one the integration tests need
    needs = root_conftest.NEEDS
    integration_needs = {module for part, modules in needs.items()
                         if part.startswith("tests/integrations") for module in modules}
    assert integration_needs >= root_conftest.INTEGRATION_FRAMEWORKS


def test_the_controller_writes_the_rewritten_test_modules_pytest_then_reads(
    pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    """``prewrite_tests`` (the xdist controller, before the workers start) writes what
    pytest's import of a test module would write and read: pytest's private functions it
    calls still work (else it would only skip its work, and this fails)."""
    from _pytest.assertion import rewrite

    module = tmp_path / "test_prewritten.py"
    module.write_text("def test_x() -> None:\n    assert 1 + 1 == 2\n")
    prewrite_tests = _root_conftest().prewrite_tests
    assert prewrite_tests(pytestconfig, [module]) == 1
    pyc = rewrite.get_cache_dir(module) / (module.stem + rewrite.PYC_TAIL)
    assert rewrite._read_pyc(module, pyc) is not None
    assert prewrite_tests(pytestconfig, [module]) == 0  # (written: read, not written again)


def test_the_suites_parts_take_turns_and_each_module_stays_in_order() -> None:
    interleaved = _root_conftest().interleaved
    core = [_Item(None, f"tests/test_{m}.py::test_{n}") for m in "abcd" for n in range(2)]
    textual = [_Item(None, f"tests/adapters/textual/test_{m}.py::test_0") for m in "xy"]
    order = [item.nodeid for item in interleaved([*core, *textual])]
    assert sorted(order) == sorted(item.nodeid for item in [*core, *textual])
    modules = [nodeid.partition("::")[0] for nodeid in order]
    assert modules == [  # at 1/5, 1/3, 2/5, 3/5, 2/3, 4/5 of the run
        "tests/test_a.py", "tests/test_a.py", "tests/adapters/textual/test_x.py",
        "tests/test_b.py", "tests/test_b.py", "tests/test_c.py", "tests/test_c.py",
        "tests/adapters/textual/test_y.py", "tests/test_d.py", "tests/test_d.py",
    ]
