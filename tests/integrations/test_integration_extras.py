"""Optional extras: ``import airlock`` loads no framework, and a missing one names its extra."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FRAMEWORKS = ("django", "celery", "kombu", "redis", "huey", "dramatiq", "django_q", "flake8")

# (integration module, framework made absent, extra named in the error)
CASES = [
    ("airlock.integrations.executors.celery", "celery", "celery"),
    ("airlock.integrations.executors.huey", "huey", "huey"),
    ("airlock.integrations.executors.dramatiq", "dramatiq", "dramatiq"),
    ("airlock.integrations.executors.django_q", "django_q", "django-q"),
    ("airlock.integrations.django", "django", "django"),
]

_PROBE = """
import importlib, json, sys
results = {}
for module, absent, _ in json.loads(sys.argv[1]):
    sys.modules[absent] = None  # what an uninstalled package looks like to `import`
    try:
        importlib.import_module(module)
    except ImportError as exc:
        results[module] = str(exc)
    else:
        results[module] = None
    del sys.modules[absent]
print(json.dumps(results))
"""


def run_python(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def import_errors() -> dict[str, str | None]:
    return dict(json.loads(run_python(_PROBE, json.dumps(CASES))))


def test_importing_airlock_imports_no_framework() -> None:
    code = (
        "import sys, airlock, airlock.integrations.executors.asyncio, "
        "airlock.integrations.executors.threadpool, airlock.integrations.flake8\n"
        f"print(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules))"
    )
    assert run_python(code).strip() == "[]"


@pytest.mark.parametrize(("module", "absent", "extra"), CASES)
def test_missing_framework_names_the_extra(
    import_errors: dict[str, str | None], module: str, absent: str, extra: str
) -> None:
    message = import_errors[module]
    assert message is not None, f"{module} imported although {absent} was absent"
    assert f'pip install "airlock-tick[{extra}]"' in message
    assert module in message
