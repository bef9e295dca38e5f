"""Loud checks of the private Textual hooks the adapter wraps (adapters/airlock_textual/_hook.py).

If one of these fails after a Textual upgrade, the adapter's assumptions broke: read
``_hook.py``'s docstring and adapt it to the new release (or pin textual<9). The oldest and
the newest Textual minor the ``textual`` extra allows are each installed (``pip install
--target``, no dependencies) and driven in a subprocess.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from textual import work
from textual.app import App, ComposeResult
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button
from textual.worker import Worker

import airlock
from airlock_textual import SUPPORTED, TextualHookError, check_hooks, check_version, install_hooks
from airlock_textual._hook import HOOKS, PUMP_HOOKS

REQUIRED = 'pip install "airlock-tick[textual]"'


def test_textual_still_has_the_private_methods_the_adapter_wraps() -> None:
    originals = check_hooks()
    assert set(originals) == {
        "_dispatch_message", "_process_messages", "_process_messages_loop", "_run_threaded"
    }
    for (_, name), expected in (HOOKS | PUMP_HOOKS).items():
        method = originals[name]
        assert inspect.iscoroutinefunction(method)
        assert list(inspect.signature(method).parameters) == expected


def test_no_subclass_overrides_the_hooks_so_a_class_wide_wrap_reaches_all() -> None:
    """Screens and widgets run MessagePump's task body (the App runs its own: AirlockApp sets
    its pump hooks itself), and no pump overrides the per-pump hooks."""
    install_hooks()
    for cls in (Screen, Widget, Button, Worker):
        for (hooked, name) in HOOKS:
            if not issubclass(cls, hooked):
                continue
            owner = next(c for c in cls.__mro__ if name in c.__dict__)
            assert owner is hooked, f"{cls.__name__} overrides {name}: wrap it too"
            assert hasattr(getattr(cls, name), "__airlock_original__")
    for pump_cls in (App, Screen, Widget, Button):
        for (hooked, name) in PUMP_HOOKS:
            owner = next(c for c in pump_cls.__mro__ if name in c.__dict__)
            assert owner is hooked, f"{pump_cls.__name__} overrides {name}: check pump_hooks"
            assert not hasattr(getattr(pump_cls, name), "__airlock_original__")  # never class-wide


def test_a_thread_worker_still_hands_its_work_to_the_executor() -> None:
    """The thread hook swaps ``Worker._work`` around ``_run_threaded``: Textual must read it
    there, before its first await, and run it in an executor."""
    source = inspect.getsource(check_hooks()["_run_threaded"])
    assert "return await loop.run_in_executor(None, runner, self._work)" in source


def test_the_pump_loop_still_calls_the_hooks() -> None:
    loop_source = inspect.getsource(check_hooks()["_process_messages_loop"])
    assert "self._dispatch_message(" in loop_source
    assert "_flush_next_callbacks()" in loop_source  # run between messages: inside the loop
    pre_source = inspect.getsource(MessagePump._pre_process)
    assert "self._dispatch_message(" in pre_source  # Compose and Mount go through it too


def test_check_hooks_fails_loudly_when_a_hook_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    def _dispatch_message(self: MessagePump, message: object, extra: int) -> None:
        """A sync method with a new parameter: not what the adapter wraps."""

    monkeypatch.setattr(MessagePump, "_dispatch_message", _dispatch_message)
    with pytest.raises(TextualHookError, match=r"Pump\._dispatch_message is missing") as info:
        check_hooks()
    assert REQUIRED in str(info.value)


def test_check_hooks_names_a_changed_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    async def _process_messages_loop(self: MessagePump, budget: int) -> None:
        """A new parameter."""

    monkeypatch.setattr(MessagePump, "_process_messages_loop", _process_messages_loop)
    with pytest.raises(TextualHookError, match=r"now takes \['self', 'budget'\]"):
        check_hooks()


def test_the_hook_error_is_an_import_error() -> None:
    """Raised at import: tools that handle a missing optional dependency handle it too."""
    assert issubclass(TextualHookError, ImportError)
    # a traceback names it as the user imports it, not by the private module defining it
    assert f"{TextualHookError.__module__}.{TextualHookError.__qualname__}" == (
        "airlock_textual.TextualHookError"
    )


@pytest.mark.parametrize("version", ["7.5.0", "9.0.0", "10.1.2", "8", "dev"])
def test_a_textual_outside_the_extras_range_is_refused_with_the_fix(version: str) -> None:
    with pytest.raises(TextualHookError) as info:
        check_version(version)
    message = str(info.value)
    assert version in message
    assert "textual>=8.0,<9.0" in message
    assert REQUIRED in message


def test_the_supported_range_is_the_extras_range() -> None:
    pyproject = (Path(__file__).parents[3] / "pyproject.toml").read_text(encoding="utf-8")
    low, high = SUPPORTED
    assert f'textual = ["textual>={low[0]},<{high[0]}"]' in pyproject
    assert check_version("8.0.0") == (8, 0)
    assert check_version("8.2.8") == (8, 2)
    installed = check_version()
    assert installed is not None and installed >= low


def run_python(code: str, *path: Path) -> subprocess.CompletedProcess[str]:
    env_path = ":".join(str(p) for p in path)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": env_path, "TERM": "dumb"},
        check=False,
    )


def test_importing_without_textual_names_the_extra() -> None:
    result = run_python(
        """
        import sys
        sys.modules["textual"] = None  # as if Textual were not installed
        import airlock_textual
        """
    )
    assert result.returncode == 1
    assert "ModuleNotFoundError" not in result.stderr.splitlines()[-1]
    expected = f"airlock_textual needs Textual, which is not installed; install it with: {REQUIRED}"
    assert expected in result.stderr


def test_importing_with_an_unsupported_textual_fails_at_import(tmp_path: Path) -> None:
    fake = tmp_path / "textual-9.1.0.dist-info"  # shadows the installed Textual's metadata
    fake.mkdir()
    (fake / "METADATA").write_text("Metadata-Version: 2.1\nName: textual\nVersion: 9.1.0\n")
    result = run_python("import airlock_textual", tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("airlock_textual.TextualHookError: airlock_textual supports")
    assert "Textual 9.1.0 is installed" in last
    assert REQUIRED in last


#: run with one Textual release on the path: import (the checks), then a click and a thread
#: worker whose effects must each run once, on the app's thread, and the inspector
SMOKE = """
    import asyncio, threading
    import textual
    from textual import work
    from textual.app import App
    from textual.widgets import Button, RichLog
    import airlock
    from airlock_textual import AirlockApp, EffectInspector, check_version

    ran = []

    def mark(label):
        ran.append((label, threading.get_ident()))

    class Smoke(AirlockApp, App[None]):
        AIRLOCK_INSPECTOR = True

        def compose(self):
            yield Button("go", id="go")

        def on_button_pressed(self):
            airlock.enqueue(mark, "click")
            self.worker()

        @work(thread=True)
        def worker(self):
            airlock.enqueue(mark, "thread")

    async def main():
        app = Smoke()
        async with app.run_test(size=(90, 30)) as pilot:
            await pilot.click("#go")
            for _ in range(200):
                if len(ran) == 2:
                    break
                await pilot.pause(0.01)
            await pilot.press("f12")
            await pilot.pause()
            await pilot.pause()
            panel = app.query_one(EffectInspector)
            assert panel.has_class("-bottom")  # 90 columns: docked at the bottom
            assert any("released" in line.text for line in panel.query_one(RichLog).lines)
        assert ran == [("click", threading.get_ident()), ("thread", threading.get_ident())], ran

    asyncio.run(main())
    print("ok", textual.__file__, check_version())
"""


def install_textual(requirement: str, target: Path) -> Path:
    """``pip install --target`` one Textual release, without its dependencies (the venv has
    them); pip's cache makes this fast after the first run."""
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"),
            *("--disable-pip-version-check", "--target", str(target), requirement),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"pip could not install {requirement}:\n{done.stderr}"
    return target


@pytest.mark.ci_only("the Textual extra's oldest and newest minor, each pip-installed and run")
def test_the_oldest_and_newest_textual_minor_of_the_extra_work(tmp_path: Path) -> None:
    """The extra allows textual>=8,<9: the oldest minor (8.0.x) and the newest (what pip picks
    for the whole range) each pass the import-time checks and run a click and a thread worker."""
    low, high = SUPPORTED
    requirements = {
        "oldest": f"textual>={low[0]}.{low[1]},<{low[0]}.{low[1] + 1}",
        "newest": f"textual>={low[0]},<{high[0]}",
    }
    with ThreadPoolExecutor(2) as pool:
        installs = {
            name: pool.submit(install_textual, requirement, tmp_path / name)
            for name, requirement in requirements.items()
        }
        targets = {name: future.result() for name, future in installs.items()}
        runs = {name: pool.submit(run_python, SMOKE, target) for name, target in targets.items()}
        results = {name: future.result() for name, future in runs.items()}
    for name, result in results.items():
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert f"ok {targets[name]}" in result.stdout  # that Textual, not the venv's
    assert "(8, 0)" in results["oldest"].stdout


class PlainApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[BaseException] = []

    def compose(self) -> ComposeResult:
        yield Button("x", id="x")

    def on_button_pressed(self) -> None:
        self.try_enqueue()
        self.thread_worker()

    def try_enqueue(self) -> None:
        try:
            airlock.enqueue(print, "never")
        except airlock.NoScopeError as error:
            self.errors.append(error)

    @work(thread=True)
    def thread_worker(self) -> None:
        self.try_enqueue()


async def test_apps_that_are_not_airlock_apps_are_untouched() -> None:
    """Their handlers and thread workers see no airlock scope, as without the hooks."""
    install_hooks()  # as any AirlockApp() does
    app = PlainApp()
    async with app.run_test() as pilot:
        await pilot.click("#x")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert len(app.errors) == 2
