"""The AIR flake8 plugin, run through flake8 itself on sample files."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from airlock.integrations.flake8 import AirlockChecker

SAMPLE = '''\
import airlock
from tasks import notify, report


def bypass(order_id):
    notify.delay(order_id)
    report.apply_async(args=(order_id,), countdown=5)
    notify.s(order_id).delay()


def fine(order_id):
    airlock.enqueue(notify, order_id)
    airlock.enqueue(report, order_id, _dispatch_options={"countdown": 5})
    delay = notify.delay  # an attribute, not a call
    notify.delay(order_id)  # noqa: AIR001 - must run now
    return delay
'''


def flake8(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flake8", *args], capture_output=True, text=True, timeout=60
    )


def test_plugin_is_registered() -> None:
    done = flake8("--version")
    assert done.returncode == 0 and "airlock-tick" in done.stdout


def test_flags_direct_dispatch_with_an_actionable_message(tmp_path: Path) -> None:
    path = tmp_path / "views.py"
    path.write_text(SAMPLE)
    done = flake8("--select", "AIR", str(path))
    assert done.returncode == 1, done.stderr
    lines = [line.removeprefix(f"{path}:") for line in done.stdout.splitlines()]
    assert [line.split(" ", 1)[0] for line in lines] == ["6:5:", "7:5:", "8:5:"]
    assert [line.split(" ")[1] for line in lines] == ["AIR001", "AIR002", "AIR001"]
    assert "use airlock.enqueue(task, *args, **kwargs)" in lines[0]
    assert "_dispatch_options" in lines[1]


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
