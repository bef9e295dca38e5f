"""What every test (``tests/`` and ``benchmarks/``) shares.

- Each test starts and ends with airlock's process-wide state at its defaults and no scope
  open (a test that leaks one fails).
- pygame runs headless (SDL dummy drivers) and quietly (no import greeting).
- A plain run times no benchmark: pytest-benchmark runs each benchmarked frame once (checking
  it works) unless a ``--benchmark-*`` option asks for timing (``--benchmark-only``,
  ``--benchmark-enable``, ...). Verdicts on performance come from ``python -m benchmarks.report``.
- The core suite's second run, on the pure core (``tests/test_kernel.py``, CI's), starts in
  its own process as soon as collection ends, so that it runs beside the rest of the suite (the
  ``pure_suite`` fixture waits for it). Under pytest-xdist (``-n``, as the README runs the
  suite) the controller starts it once and the worker that runs the test waits for it.
- A test marked ``ci_only(why)`` runs where ``CI`` is set (CI sets it): the release checks
  (building and installing the sdist and wheel, the strict docs build and the docs pages'
  examples, the benchmark tools under valgrind, the Textual extra's oldest and newest minor)
  and the second run of the core suite on the pure core. The README's command runs the rest
  in about half a minute; its summary names what it left to CI and how to run it here.
- Which parts of the suite need which optional packages (``NEEDS``): ``pip install -e
  ".[test]"`` (the README's command) installs what the core, adapter, benchmark and docs
  tests import; the integration tests' frameworks (``INTEGRATION_FRAMEWORKS``) come with the
  ``integrations`` extra and the release checks' tools (the build, twine, MkDocs,
  matplotlib) with ``dev``, which has both and which CI installs. Where some are missing,
  the parts that import them are not collected, the core runs, and the end of the run names
  every part left untested and the command that installs what it needs (the integrations
  among what it left to CI).
"""

from __future__ import annotations

import compileall
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

import airlock
from airlock import reset_configuration
from airlock._context import NO_SCOPE, current_target

# The run writes bytecode caches even under PYTHONDONTWRITEBYTECODE (the test processes and
# the ~40 subprocesses the tests start): each module, and each test module's assertion
# rewrite, is then compiled once per run instead of once per process (a fresh clone's run:
# about 38 -> 33 s here). They go to __pycache__ folders that git ignores.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no greeting in the test output

ROOT = Path(__file__).resolve().parent
INSTALL = ('python3 -m venv .venv && .venv/bin/pip install -e ".[test]" '
           "&& .venv/bin/python -m pytest -n 4")
#: what also runs the release checks here (their tools are the dev extra's)
INSTALL_RELEASE_CHECKS = ('.venv/bin/pip install -q -e ".[dev]" '
                          "&& CI=true .venv/bin/python -m pytest -n 4")

#: test files and directories (relative to the repository) -> the modules they import
NEEDS: dict[str, tuple[str, ...]] = {
    "tests/adapters/pygame_adapter": ("pygame",),
    "tests/adapters/textual_adapter": ("textual", "pytest_asyncio"),
    "tests/integrations": ("pytest_asyncio",),
    "tests/integrations/test_cancellation.py": ("hypothesis",),
    "tests/integrations/test_integration_celery.py": ("celery",),
    "tests/integrations/test_integration_celery_redis.py": ("celery", "redis"),
    "tests/integrations/test_integration_django.py": ("django",),
    "tests/integrations/test_integration_django_app.py": ("django",),
    "tests/integrations/test_integration_django_q.py": ("django", "django_q"),
    "tests/integrations/test_integration_django_tasks.py": ("django", "django_tasks_db"),
    "tests/integrations/test_integration_direct.py": (
        "celery", "django", "django_q", "django_tasks_db", "dramatiq", "huey",
    ),
    "tests/integrations/test_integration_dramatiq.py": ("dramatiq",),
    "tests/integrations/test_integration_flake8.py": ("flake8",),
    "tests/integrations/test_integration_huey.py": ("huey",),
    "tests/integrations/test_integration_seeds.py": ("celery", "django_q", "dramatiq", "huey"),
    "tests/test_isolation.py": ("gevent", "pytest_asyncio"),
    "tests/test_stateful.py": ("hypothesis",),
    "tests/test_kernel_differential.py": ("hypothesis",),
    "tests/test_kernel_stages.py": ("hypothesis",),
    "tests/test_pipeline.py": ("hypothesis",),
    "tests/test_ledger.py": ("hypothesis", "greenlet"),
    "tests/test_kernel_ledger.py": ("hypothesis", "greenlet"),
    "benchmarks": ("pytest_benchmark",),
    "benchmarks/test_frames.py": ("pygame",),
    "benchmarks/test_report.py": ("pygame",),
    "benchmarks/test_profiling.py": ("pygame",),
    "benchmarks/test_textual_messages.py": ("textual",),
    "benchmarks/test_pygame_frames.py": ("pygame",),
}

#: what an import of a name needs installed (for code in documentation pages)
PROVIDED_BY: dict[str, tuple[str, ...]] = {
    "airlock_pygame": ("pygame",),
    "airlock_textual": ("textual",),
    "airlock.integrations.django": ("django",),
    "airlock.integrations.executors.celery": ("celery",),
    "airlock.integrations.executors.django_q": ("django_q",),
    "airlock.integrations.executors.django_tasks": ("django_tasks_db",),
    "airlock.integrations.executors.dramatiq": ("dramatiq",),
    "airlock.integrations.executors.huey": ("huey",),
    "celery": ("celery",),
    "django": ("django",),
    "dramatiq": ("dramatiq",),
    "greenlet": ("greenlet",),
    "huey": ("huey",),
    "pygame": ("pygame",),
    "pytest_asyncio": ("pytest_asyncio",),
    "textual": ("textual",),
}

#: the integration tests' frameworks: the integrations extra's (dev has it, so CI runs them),
#: not the test extra's (the README's run leaves those tests to CI and says so)
INTEGRATION_FRAMEWORKS = frozenset({
    "celery", "redis", "django", "django_q", "django_tasks_db", "dramatiq", "huey", "flake8",
})

LEFT_OUT = pytest.StashKey[dict[str, list[str]]]()

#: the test that checks the pure-core run, and the variable set in that run (so that it does
#: not start another)
PURE_SUITE_TEST = "test_the_core_suite_passes_on_the_pure_core"
PURE_SUITE_RUN = "AIRLOCK_PURE_SUITE_RUN"
PureRun = tuple["subprocess.Popen[bytes]", IO[bytes]]
PURE_SUITE = pytest.StashKey[PureRun]()
#: what the pure-core run leaves out: the adapters and integrations, and the tests that do not
#: depend on which core runs (packaging, the docs build and the docs' examples, and the
#: kernel's comparisons with the pure core, which run both cores wherever the kernel is built)
PURE_SUITE_LEAVES_OUT = ("adapters", "integrations", "test_packaging.py", "test_docs_build.py",
                         "test_docs_examples.py", "test_kernel_differential.py",
                         "test_kernel_ledger.py", "test_kernel_policy.py", "test_kernel_stages.py")
#: how long the pure-core run may take (seconds)
PURE_SUITE_TIMEOUT = 600
#: under xdist: the folder the controller's pure-core run writes to (the controller's stash,
#: and each worker's ``workerinput`` under this key)
PURE_SUITE_FOLDER = "airlock_pure_suite"
PURE_SUITE_FOLDER_KEY = pytest.StashKey[str]()


def start_pure_suite(output: IO[bytes]) -> subprocess.Popen[bytes]:
    """The core suite (``tests/`` but ``PURE_SUITE_LEAVES_OUT``) on the pure core
    (``AIRLOCK_NO_EXTENSIONS=1``), started in a process of its own; its output goes to
    ``output``, a file (a pipe could fill up and stop it)."""
    # at the local sizes: CI's long property and stress runs are the compiled run's (the
    # differential tests compare the two cores at CI's sizes)
    env = {**os.environ, "AIRLOCK_NO_EXTENSIONS": "1", PURE_SUITE_RUN: "1", "CI": ""}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ROOT / "adapters"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests", *(f"--ignore=tests/{part}" for part in PURE_SUITE_LEAVES_OUT)],
        env=env, stdout=output, stderr=subprocess.STDOUT, cwd=ROOT,
    )


def _wants_pure_suite(names: Iterable[str]) -> bool:
    return (airlock.compiled and runs_ci_only() and not os.environ.get(PURE_SUITE_RUN)
            and any(name.rpartition("::")[2] == PURE_SUITE_TEST for name in names))


def pytest_collection_finish(session: pytest.Session) -> None:
    if _is_worker(session.config):  # under xdist the controller starts it (below)
        return
    if _wants_pure_suite(item.nodeid for item in session.items):
        output = tempfile.TemporaryFile()  # noqa: SIM115  # read and closed by pure_suite
        session.config.stash[PURE_SUITE] = start_pure_suite(output), output


def pytest_unconfigure(config: pytest.Config) -> None:
    """A pure-core run nobody waited for (the session stopped early) is stopped."""
    started = config.stash.get(PURE_SUITE, None)
    if started is not None and started[0].poll() is None:
        started[0].kill()
        started[0].wait()
    folder = config.stash.get(PURE_SUITE_FOLDER_KEY, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pure_suite(request: pytest.FixtureRequest) -> tuple[int, str]:
    """The pure-core run's exit status and output, once it has ended (started now if
    collection did not start it)."""
    folder = getattr(request.config, "workerinput", {}).get(PURE_SUITE_FOLDER)
    if folder is not None and (Path(folder) / "output").exists():
        return _ended_elsewhere(Path(folder))
    started = request.config.stash.get(PURE_SUITE, None)
    if started is None:
        own: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  # closed below
        started = start_pure_suite(own), own
    run, output = started
    try:
        status = run.wait(timeout=PURE_SUITE_TIMEOUT)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    output.seek(0)
    text = output.read().decode(errors="replace")
    output.close()
    return status, text


# -- under pytest-xdist (``-n``): the controller starts the pure-core run, a worker waits -----


#: under xdist: modules whose tests all run on one worker, so that their costly module fixture
#: (a wheel build, a docs site, a Celery worker, every docs page's process) is made once, not
#: once per worker
ONE_WORKER_MODULES = frozenset({
    "tests/test_docs_build.py", "tests/test_docs_examples.py", "tests/test_packaging.py",
    "tests/integrations/test_integration_celery_redis.py",
    "tests/integrations/test_integration_extras.py",
    "tests/adapters/textual_adapter/test_textual_demo.py",
})


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # (before xdist's own)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n`` (``--dist load``) spreads the tests of ``ONE_WORKER_MODULES`` as one unit each and
    every other test on its own. (xdist's ``--dist loadgroup`` would do it with a mark, but its
    workers cannot name the group in a test's id under pytest 9.)"""
    if config.getoption("dist") != "load":
        return None  # (another ``--dist`` asked for: xdist's own)
    try:
        from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]
    except ImportError:
        return None
    if not callable(getattr(LoadScopeScheduling, "_split_scope", None)):
        return None  # (an xdist that groups otherwise: its own, the run only slower)

    class OneWorkerModules(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.partition("::")[0]
            return module if module in ONE_WORKER_MODULES else nodeid

    return OneWorkerModules(config, log)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


#: what the workers import from the checkout: compiled by the controller before they start
COMPILED_FIRST = ("airlock", "adapters", "benchmarks", "demos", "tests")


@pytest.hookimpl(tryfirst=True)  # (before xdist's own starts the workers)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist, the controller compiles the checkout's modules (and rewrites the test
    modules' asserts, as pytest would) before the workers start: in a fresh clone the workers
    would each compile every module at once, three or four times the work (a fresh clone's
    run: about 5 s of CPU less here)."""
    config = session.config
    if _is_worker(config) or not config.pluginmanager.hasplugin("dsession"):
        return
    for folder in COMPILED_FIRST:
        compileall.compile_dir(ROOT / folder, quiet=2, rx=re.compile(r"[\\/]test_[^\\/]*$"))
    prewrite_tests(config, sorted({*ROOT.glob("tests/**/test_*.py"),
                                   *ROOT.glob("tests/**/conftest.py"),
                                   *ROOT.glob("benchmarks/test_*.py")}))


def prewrite_tests(config: pytest.Config, modules: Iterable[Path]) -> int:
    """Write the cache of each test module's assert-rewritten code that pytest would write on
    its first import (pytest's own functions: private, so a change there only skips this; a
    test checks they still work). Returns how many it wrote."""
    try:
        from _pytest.assertion import rewrite

        state = config.stash[rewrite.assertstate_key]
        written = 0
        for module in modules:
            pyc = rewrite.get_cache_dir(module) / (module.stem + rewrite.PYC_TAIL)
            if rewrite._read_pyc(module, pyc) is not None:
                continue
            source_hash, code = rewrite._rewrite_test(module, config)
            if rewrite.try_makedirs(pyc.parent) and rewrite._write_pyc(state, code,
                                                                       source_hash, pyc):
                written += 1
    except (ImportError, AttributeError, KeyError, TypeError, ValueError, OSError):
        return 0  # (a pytest without these: the workers write them, as before)
    return written


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Each worker learns where the controller's pure-core run writes (``output`` while it
    runs, ``status`` once it ended)."""
    config = node.config
    folder = config.stash.get(PURE_SUITE_FOLDER_KEY, None)
    if folder is None:
        folder = config.stash[PURE_SUITE_FOLDER_KEY] = tempfile.mkdtemp(prefix="airlock-pure-")
    node.workerinput[PURE_SUITE_FOLDER] = folder


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """The first worker that collected the pure-core test starts the run: once, in the
    controller, beside every worker."""
    config = node.config
    folder = config.stash.get(PURE_SUITE_FOLDER_KEY, None)
    if folder is None or PURE_SUITE in config.stash or not _wants_pure_suite(ids):
        return
    output = open(Path(folder) / "output", "wb")  # noqa: SIM115  # closed by _report_status
    run = start_pure_suite(output)
    config.stash[PURE_SUITE] = run, output
    threading.Thread(target=_report_status, args=(run, output, Path(folder)),
                     daemon=True).start()


def _report_status(run: subprocess.Popen[bytes], output: IO[bytes], folder: Path) -> None:
    """Write the run's exit status to ``folder / "status"`` (whole, by a rename) when it
    ends."""
    status = run.wait()
    output.close()
    try:
        (folder / "status.part").write_text(str(status))
        (folder / "status.part").replace(folder / "status")
    except OSError:  # the session ended first and removed the folder: nobody waits
        pass


def _ended_elsewhere(folder: Path) -> tuple[int, str]:
    """The controller's pure-core run, once it has ended (a worker waits for it)."""
    deadline = time.monotonic() + PURE_SUITE_TIMEOUT
    status_file = folder / "status"
    while not status_file.exists():
        if time.monotonic() > deadline:
            return -1, f"the pure-core run did not end within {PURE_SUITE_TIMEOUT} s"
        time.sleep(0.1)
    return int(status_file.read_text()), (folder / "output").read_text(errors="replace")


pytest_plugins = ["pytester"]  # tests/test_pytest_plugin.py runs small suites with it


@pytest.hookimpl(tryfirst=True)  # before pytest-benchmark reads its options
def pytest_configure(config: pytest.Config) -> None:
    timing_asked = any(
        str(arg).startswith("--benchmark-") and str(arg) != "--benchmark-disable"
        for arg in config.invocation_params.args
    )
    if hasattr(config.option, "benchmark_disable") and not timing_asked:
        config.option.benchmark_disable = True


@pytest.fixture(autouse=True)
def _reset_airlock() -> Iterator[None]:
    reset_configuration()
    assert current_target.get() is NO_SCOPE, "a previous test left a scope open"
    yield
    reset_configuration()
    leaked = current_target.get()
    if leaked is not NO_SCOPE:
        current_target.set(NO_SCOPE)
        pytest.fail(f"test left {leaked!r} as the current airlock scope")


#: how a ``ci_only`` test's skip reason starts (the summary counts them by it)
CI_ONLY = "CI runs this"


def runs_ci_only() -> bool:
    """Whether this run includes the ``ci_only`` tests: ``CI`` is set (to anything)."""
    return bool(os.environ.get("CI"))


def interleaved(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with each module's tests together and in order, and the modules of each part
    of the suite (a folder: the core tests, each adapter's, the integrations, the benchmarks)
    spread evenly over the run. xdist hands tests out in this order: in folder order the
    workers would all reach the Textual tests, which mostly wait (the pilot, debounce
    windows), at once, and leave the cores idle (measured: 2-3 s of a 37 s run)."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.partition("::")[0], []).append(item)
    parts: dict[str, list[str]] = {}
    for module in modules:
        parts.setdefault(module.rpartition("/")[0], []).append(module)
    places = sorted(
        ((index + 1) / (len(part) + 1), module)
        for part in parts.values() for index, module in enumerate(part)
    )
    return [item for _, module in places for item in modules[module]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items[:] = interleaved(items)
    if runs_ci_only():
        return
    for item in items:
        marker = item.get_closest_marker("ci_only")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason=f"{CI_ONLY}: {marker.args[0]}"))


def missing(modules: tuple[str, ...] | list[str]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def leave_out(config: pytest.Config, part: str, absent: list[str]) -> None:
    """Record that ``part`` is not tested because ``absent`` are not installed."""
    config.stash.setdefault(LEFT_OUT, {})[part] = absent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    try:
        path = collection_path.resolve().relative_to(ROOT)
    except ValueError:
        return None
    # the folders' needs too: a folder given as a test path is not itself asked about
    for part in [*reversed([p.as_posix() for p in path.parents][:-1]), path.as_posix()]:
        absent = missing(NEEDS.get(part, ()))
        if absent:
            leave_out(config, part, absent)
            return True
    return None


@pytest.fixture
def require_imports(request: pytest.FixtureRequest) -> Callable[[Iterable[str]], None]:
    """``require_imports(names)``: skip (and report) this test unless what importing ``names``
    needs is installed."""

    def check(names: Iterable[str]) -> None:
        needed = {
            module
            for name in names
            for prefix, modules in PROVIDED_BY.items()
            if name == prefix or name.startswith(prefix + ".")
            for module in modules
        }
        absent = missing(sorted(needed))
        if absent:
            leave_out(request.config, request.node.nodeid, absent)
            pytest.skip(f"needs {', '.join(absent)}: {INSTALL}")

    return check


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    left_out = config.stash.get(LEFT_OUT, {})
    if config.pluginmanager.hasplugin("dsession"):  # xdist's controller: the workers collect
        left_out = {part: absent for part, modules in NEEDS.items()
                    if (absent := missing(modules))}
    integrations = sorted(part for part, absent in left_out.items()
                          if set(absent) <= INTEGRATION_FRAMEWORKS)
    _summarize_ci_only(terminalreporter, integrations)
    left_out = {part: absent for part, absent in left_out.items() if part not in integrations}
    if not left_out:
        return
    terminalreporter.write_sep("!", "NOT TESTED: optional packages are missing", red=True)
    for part, absent in sorted(left_out.items()):
        terminalreporter.write_line(f"{part}: needs {', '.join(absent)}")
    terminalreporter.write_line(f"Install them and run everything: {INSTALL}")


def _summarize_ci_only(terminalreporter: Any, integrations: list[str]) -> None:
    """Name what this run left to CI (the ``ci_only`` tests, and the ``integrations`` modules
    whose frameworks are not installed), and how to run it here."""
    reasons = sorted({
        reason.partition(": ")[2]
        for report in terminalreporter.stats.get("skipped", ())
        if isinstance(report.longrepr, tuple)
        and (reason := report.longrepr[2].removeprefix("Skipped: ")).startswith(CI_ONLY)
    })
    if integrations:
        reasons.append(f"the integration tests with Django, Celery (and Redis), Huey, Dramatiq, "
                       f"django-q2, django-tasks and flake8 ({len(integrations)} modules: "
                       f"their frameworks are the integrations extra's)")
    if not reasons:
        return
    terminalreporter.write_sep("-", "left to CI (the integrations and the release checks)")
    for reason in reasons:
        terminalreporter.write_line(f"- {reason}")
    terminalreporter.write_line(f"Run them here too: {INSTALL_RELEASE_CHECKS}")
