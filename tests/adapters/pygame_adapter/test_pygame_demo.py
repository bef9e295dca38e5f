"""The asteroids demo runs headless in-process, and the README example really runs."""

from __future__ import annotations

import pkgutil
from pathlib import Path

import pygame
import pytest

import demos
from demos import asteroids


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


# The README's pygame example, verbatim: keep the two in sync.
README_EXAMPLE = '''
import pygame
from airlock_pygame import GameLoop, play_sound, tone

pygame.init()
screen = pygame.display.set_mode((320, 240))
beep = tone(440, 80)
ball = {"x": 0.0}

def update(dt: float) -> None:
    ball["x"] = (ball["x"] + 240 * dt) % 320
    if ball["x"] < 4:
        play_sound(beep)  # from deep in game code: played once, after the frame is shown

def draw(surface: pygame.Surface) -> None:
    surface.fill("black")
    pygame.draw.circle(surface, "white", (int(ball["x"]), 120), 8)

loop = GameLoop(screen, update=update, draw=draw, overlay=True)  # F3 toggles the overlay
loop.run(frames=120)
print(loop.history[-1])
'''


def test_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from airlock_pygame import default_sounds

    default_sounds.take_report()
    namespace: dict[str, object] = {}
    try:
        exec(compile(README_EXAMPLE, "README.md", "exec"), namespace)
    finally:
        pygame.quit()
    assert "FrameRecord(frame=119" in capsys.readouterr().out
    played = default_sounds.take_report()
    assert played.requested >= 1  # the ball wrapped around (every 80 steps of 1/60 s)
