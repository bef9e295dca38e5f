"""The asteroids demo runs headless in-process (the README example: test_pygame_env.py)."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pygame
import pytest

import demos
from demos import asteroids

#: the demos are run by hand (README) and in CI; the README's test command leaves them
pytestmark = pytest.mark.ci_only("the pygame demos, each run headless")

ROOT = Path(__file__).resolve().parents[3]


def test_demo_is_discoverable_by_python_m_demos() -> None:
    assert "asteroids" in {info.name for info in pkgutil.iter_modules(demos.__path__)}
    assert isinstance(asteroids.SUMMARY, str) and asteroids.SUMMARY
    assert callable(asteroids.main)


def test_headless_run_completes_and_writes_a_non_blank_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    shot = tmp_path / "last.png"
    assert asteroids.main(["--headless", "--frames", "60", "--screenshot", str(shot)]) == 0
    out = capsys.readouterr().out
    assert "60 frames (headless)" in out
    assert "frame  enqueued  dispatched" in out
    assert "telemetry: sent" in out and "loopback receiver 127.0.0.1" in out
    sent = out.split("telemetry: sent ")[1].split(";")[0]
    got = out.split(" got ")[1].split("\n")[0]
    assert sent == got and not sent.startswith("0 ")

    pygame.init()
    try:
        image = pygame.image.load(str(shot))
    finally:
        pygame.quit()
    assert image.get_size() == (800, 600)
    colors = {tuple(image.get_at((x, y)))
              for x in range(0, 800, 7) for y in range(0, 600, 7)}
    assert len(colors) > 20, "the screenshot is (nearly) blank"
    panel = image.get_at((10, 10))
    assert max(panel.r, panel.g, panel.b) < 60  # the overlay panel is in the top-left corner


def test_default_is_headless_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    from demos.asteroids._main import DEFAULT_FRAMES, DEFAULT_SCREENSHOT, parse

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    args = parse([])
    assert (args.headless, args.frames, args.screenshot) == (True, DEFAULT_FRAMES,
                                                             DEFAULT_SCREENSHOT)
    monkeypatch.setenv("DISPLAY", ":0")
    assert parse([]).headless is False
    assert parse(["--headless"]).headless is True


@pytest.mark.parametrize("option", ["--frames", "--every"])
def test_counts_below_one_are_refused_with_the_option_named(
    option: str, capsys: pytest.CaptureFixture[str],
) -> None:
    from demos.asteroids._main import parse

    with pytest.raises(SystemExit) as exit_:
        parse(["--headless", option, "0"])
    assert exit_.value.code == 2
    assert f"{option} must be at least 1" in capsys.readouterr().err


def test_windowed_without_a_display_fails_at_once_and_says_how_to_run_headless(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    pygame.quit()  # (an earlier test in this process may have left a display open)
    with pytest.raises(SystemExit) as exit_:
        asteroids.main(["--windowed", "--frames", "2"])
    assert exit_.value.code == 2
    assert not pygame.display.get_init()  # refused before pygame started anything
    err = capsys.readouterr().err
    assert "--windowed needs a display" in err
    assert "python -m demos asteroids --headless" in err


def test_windowed_from_the_command_line_without_a_display_exits_with_the_message(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "SDL_AUDIODRIVER")}
    env["PYTHONPATH"] = str(ROOT)
    # the old behaviour ran forever on SDL's off-screen driver; the timeout only guards that
    result = subprocess.run([sys.executable, "-m", "demos", "asteroids", "--windowed"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 2
    assert "--windowed needs a display" in result.stderr
    assert "no audio device" not in result.stderr  # no sound was made: nothing to warn about
    assert "frames" not in result.stdout


def test_a_windowed_run_that_only_gets_an_offscreen_display_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DISPLAY", ":99")  # set, but SDL can only open its dummy driver here
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert asteroids.main(["--windowed", "--frames", "2"]) == 2
    assert "--windowed needs a display" in capsys.readouterr().err


def test_the_headless_run_says_what_it_demonstrates_as_it_happens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    shot = tmp_path / "shot.png"
    assert asteroids.main(["--headless", "--frames", "210", "--screenshot", str(shot)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    glitch = next(i for i, line in enumerate(lines) if line.startswith("frame 200: scripted"))
    assert "ON PURPOSE" in lines[glitch]
    assert lines.index(next(line for line in lines if line.startswith("frame  enqueued"))) > glitch
    assert "scripted glitch" in caplog.text  # the log line itself says so too
    assert "the table shows every 7th frame" in out
    assert "starved = no channel free" in out and "stolen = " in out
    assert "the frame clock" in out
    assert "(the scripted glitch, on purpose)" in out


def test_the_table_heading_counts_in_english() -> None:
    from demos.asteroids._main import ordinal

    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]


def test_the_headless_demo_gives_the_same_sound_counts_on_every_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    def sounds_line() -> str:
        assert asteroids.main(["--headless", "--frames", "90", "--screenshot",
                               str(tmp_path / "s.png")]) == 0
        return next(line for line in capsys.readouterr().out.splitlines()
                    if line.startswith("sounds:"))

    first = sounds_line()
    assert "played" in first and sounds_line() == first


def test_the_asyncio_mode_runs_the_same_game_as_a_task_beside_the_receivers_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    def run(*mode: str) -> str:
        assert asteroids.main(["--headless", "--frames", "60", "--screenshot",
                               str(tmp_path / "s.png"), *mode]) == 0
        return capsys.readouterr().out

    plain, under_asyncio = run(), run("--asyncio")
    assert "asyncio: the loop ran as a task" in under_asyncio and "asyncio:" not in plain
    took = int(under_asyncio.split("another task, took ")[1].split()[0])
    sent = under_asyncio.split("telemetry: sent ")[1].split()[0]
    assert took == int(sent) > 0  # every datagram reached the other task between frames

    def same_game(out: str) -> list[str]:
        return [line for line in out.splitlines()
                if line.startswith(("sounds:", "totals:", "telemetry: sent"))]

    assert [line.split("; loopback")[0] for line in same_game(under_asyncio)] == [
        line.split("; loopback")[0] for line in same_game(plain)]
