"""The threaded tests on CPython 3.10's pure core, which CI's own interpreter cannot stand for.

CPython 3.10 lets another thread run at a taken jump and 3.11+ does not, so a race between two
reads in the pure core (session 19's lost effects in ``Buffer.capture``) can only happen there.
This runs the modules that race threads against scopes and ticks on a 3.10 found on the machine
(pyenv's or ``python3.10`` on ``PATH``), in a virtualenv of its own, on the checkout as it is
(on ``PYTHONPATH``: nothing is built or installed), with ``AIRLOCK_NO_EXTENSIONS=1`` and CI's
sizes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: where pyenv keeps its interpreters (CI's machines and these: /root/.pyenv)
PYENV_ROOTS = tuple(dict.fromkeys([
    Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv"), Path("/root/.pyenv"),
]))
#: the core modules whose tests race threads against scopes and ticks (test_ledger's stateful
#: runs race them too, but take 80 s at CI's sizes on 3.10 alone)
MODULES = tuple(f"tests/{name}.py" for name in (
    "test_tick_threads", "test_tick_concurrency", "test_tick_backpressure", "test_tick",
    "test_tick_cadence", "test_nesting", "test_enqueue", "test_buffer", "test_inbox",
    "test_plain", "test_policies", "test_current", "test_fork", "test_isolation",
))
#: what those modules, the root conftest.py and the project's pytest options need (greenlet
#: comes with gevent; test_isolation and four of test_tick_concurrency's tests import gevent)
REQUIREMENTS = ("pytest>=8", "pytest-asyncio>=0.23", "gevent>=23")
#: the tests, dealt out in turn, run in this many pytest processes at once: the threaded stress
#: test (test_tick_threads) is GIL-bound and takes 70-80 s at CI's sizes in one process here,
#: 45-60 s in two
SHARDS = 2
#: (airlock's pytest plugin loads as in an install where the checkout has an editable install's
#: airlock_tick.egg-info: on PYTHONPATH, it names the plugin; none of MODULES needs it)
PYTEST = ("-m", "pytest", "-q", "-p", "no:cacheprovider")
#: what the child's environment does not take from this one's
NOT_INHERITED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS",
                 "AIRLOCK_PURE_SUITE_RUN")


def is_cpython_310(python: str) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", "import platform, sys; "
             "print(platform.python_implementation(), sys.version_info[:2] == (3, 10))"],
            capture_output=True, text=True, timeout=60, check=False,
        )
    except OSError:
        return False
    return done.returncode == 0 and done.stdout.split() == ["CPython", "True"]


def find_python_310() -> str | None:
    """A CPython 3.10: pyenv's (the newest release first) or ``python3.10`` on ``PATH``."""
    pyenv = sorted(
        (path for root in PYENV_ROOTS for path in root.glob("versions/3.10*/bin/python")),
        key=lambda path: [int(part) if part.isdigit() else -1
                          for part in path.parent.parent.name.split(".")],
        reverse=True,
    )
    on_path = shutil.which("python3.10")
    candidates = [str(path) for path in pyenv] + ([on_path] if on_path else [])
    return next((python for python in candidates if is_cpython_310(python)), None)


def run(command: list[str], timeout: float,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``command``, run in the checkout, its output kept."""
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=ROOT, check=False)


def child_environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in NOT_INHERITED and not name.startswith("PYTEST_XDIST")}
    env |= {"AIRLOCK_NO_EXTENSIONS": "1", "CI": "true",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "adapters")])}
    return env


def tail(done: subprocess.CompletedProcess[str], chars: int = 6000) -> str:
    return f"exit {done.returncode}:\n{(done.stdout + done.stderr)[-chars:]}"


@pytest.mark.ci_only("the threaded core tests on CPython 3.10's pure core, in a venv of its own "
                     "(3.10 switches threads at jumps, 3.11+ does not)")
def test_the_threaded_tests_pass_on_python_310s_pure_core(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Only 3.10 lets another thread run between two reads with a jump between them (a lost
    effect in the pure core's hand-over once needed it), and CI's own interpreter is newer."""
    python310 = find_python_310()
    if python310 is None:
        pytest.skip("no CPython 3.10 here (pyenv's versions/3.10*/bin/python, or python3.10 on "
                    "PATH): the threaded tests' run on 3.10's pure core needs one")
    folder = tmp_path_factory.mktemp("python310")
    venv = folder / "venv"
    made = run([python310, "-m", "venv", str(venv)], timeout=120)
    assert made.returncode == 0, tail(made)
    python = str(venv / "bin" / "python")
    installed = run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                     *REQUIREMENTS], timeout=600)
    assert installed.returncode == 0, tail(installed)

    env = child_environment()
    which = run([python, "-c", "import sys, airlock; print('%d.%d' % sys.version_info[:2], "
                 "airlock.compiled, airlock.__file__)"], timeout=60, env=env)
    assert which.returncode == 0, tail(which)
    # 3.10, the pure core, and the checkout's airlock
    assert which.stdout.split() == ["3.10", "False", str(ROOT / "airlock" / "__init__.py")], (
        tail(which))

    collected = run([python, *PYTEST, "--collect-only", *MODULES], timeout=120, env=env)
    assert collected.returncode == 0, tail(collected)
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    # (a module whose imports are missing is left out by the root conftest.py, not failed)
    assert sorted({test.partition("::")[0] for test in ids}) == sorted(MODULES), tail(collected)

    def shard(index: int) -> subprocess.CompletedProcess[str]:
        return run([python, *PYTEST, f"--basetemp={folder / f'shard{index}'}",
                    *ids[index::SHARDS]], timeout=900, env=env)

    with ThreadPoolExecutor(SHARDS) as pool:
        runs = list(pool.map(shard, range(SHARDS)))
    for index, done in enumerate(runs):
        last = done.stdout.strip().splitlines()[-1:] or [""]
        assert done.returncode == 0 and " passed" in last[0], f"shard {index}: {tail(done)}"
