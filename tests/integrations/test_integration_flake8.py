"""The AIR checks: through flake8 itself, through ``check_file`` and the command line, and as
the pre-commit hook's command."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from airlock.flake8_plugin import AirlockChecker, check_file, main

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = '''\
import airlock
from tasks import notify, report


def bypass(order_id):
    notify.delay(order_id)
    report.apply_async(args=(order_id,), countdown=5)
    notify.s(order_id).delay()


def lazy(order_id):
    from tasks import archive
    import json

    return archive, json


def fine(order_id):
    airlock.enqueue(notify, order_id)
    airlock.enqueue(report, order_id, _dispatch_options={"countdown": 5})
    delay = notify.delay  # an attribute, not a call
    notify.delay(order_id)  # noqa: AIR001 - must run now
    import os  # noqa
    return delay, os
'''
EXPECTED = [
    (6, 4, "AIR001"), (7, 4, "AIR001"), (8, 4, "AIR001"), (12, 4, "AIR002"), (13, 4, "AIR002"),
]


def flake8(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args], capture_output=True, text=True, timeout=60
    )


def test_plugin_is_registered() -> None:
    done = flake8("--version")
    assert done.returncode == 0 and "airlock-tick" in done.stdout


def test_the_old_entry_point_path_is_the_same_checker() -> None:
    from airlock.integrations import flake8 as entry_point

    assert entry_point.AirlockChecker is AirlockChecker and entry_point.check_file is check_file


def test_flake8_flags_direct_dispatch_and_function_imports(tmp_path: Path) -> None:
    path = tmp_path / "views.py"
    path.write_text(SAMPLE)
    done = flake8("--select", "AIR", str(path))
    assert done.returncode == 1, done.stderr
    lines = [line.removeprefix(f"{path}:") for line in done.stdout.splitlines()]
    found = [(int(p[0]), int(p[1]) - 1, p[2].split()[0]) for p in (x.split(":", 2) for x in lines)]
    assert found == EXPECTED
    assert "use airlock.enqueue(task, *args, **kwargs)" in lines[0]
    assert ".apply_async() dispatches" in lines[1] and "_dispatch_options" in lines[1]
    assert "import at module level" in lines[3]


def test_clean_file_passes(tmp_path: Path) -> None:
    path = tmp_path / "clean.py"
    path.write_text("import airlock\n\nairlock.enqueue(print, 'hi')\n")
    done = flake8("--select", "AIR", str(path))
    assert done.returncode == 0 and done.stdout == ""


def test_checker_reports_positions() -> None:
    tree = ast.parse("x = 1\nfoo.bar.delay(x)\n")
    [(line, col, message, kind)] = list(AirlockChecker(tree).run())
    assert (line, col, kind) == (2, 0, AirlockChecker)
    assert message.startswith("AIR001 ")


def test_check_file_reads_the_file_or_the_given_source(tmp_path: Path) -> None:
    path = tmp_path / "views.py"
    path.write_text(SAMPLE)
    assert [(line, col, m.split()[0]) for line, col, m in check_file(path)] == EXPECTED
    [(line, col, message)] = check_file(path, source="x = 1\ntask.delay(1)\n")
    assert (line, col) == (2, 0) and message.startswith("AIR001 .delay() dispatches")
    with pytest.raises(SyntaxError):
        check_file("broken.py", source="def (:\n")


def test_main_prints_findings_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pkg").mkdir()
    bad = tmp_path / "pkg" / "views.py"
    bad.write_text(SAMPLE)
    clean = tmp_path / "clean.py"
    clean.write_text("import airlock\n")
    assert main([str(clean)]) == 0 and capsys.readouterr().out == ""
    assert main([str(tmp_path)]) == 1  # a directory: every .py file under it
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(EXPECTED) and out[0].startswith(f"{bad}:6:5: AIR001 ")
    (tmp_path / "broken.py").write_text("def (:\n")
    assert main([str(tmp_path / "broken.py")]) == 1
    assert "cannot check" in capsys.readouterr().err
    assert main([]) == 2


def test_pre_commit_hook_runs_the_command_line(tmp_path: Path) -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text()
    hook = dict(
        line.lstrip("- ").split(": ", 1) for line in text.splitlines()
        if line.startswith(("- ", "  ")) and ": " in line and not line.startswith("    ")
    )
    assert hook["id"] == "airlock" and hook["language"] == "python"
    assert hook["types"] == "[python]"
    path = tmp_path / "views.py"
    path.write_text(SAMPLE)
    command = hook["entry"].split()
    assert command[:2] == ["python", "-m"]
    done = subprocess.run(
        [sys.executable, *command[1:], str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and done.stdout.count("AIR00") == len(EXPECTED)
