"""First contact: a missing pygame names the extra; no sound device: silence and one warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from airlock_pygame import audio_device_available

SILENT = "no audio device"


def run_python(code: str, cwd: Path, **env_changes: str | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_importing_without_pygame_names_the_extra(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['pygame'] = None\n"
            "try:\n    import airlock_pygame\n"
            "except ImportError as exc:\n    print(type(exc).__name__, exc)\n")
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ImportError airlock_pygame needs pygame-ce")
    assert 'pip install "airlock-tick[pygame]"' in result.stdout


@pytest.mark.ci_only("the README's pygame example, run in a fresh interpreter with no display")
def test_the_readme_example_runs_on_a_headless_machine_as_shown(tmp_path: Path,
                                                               readme_example: str) -> None:
    """No SDL driver set, no display: it runs, silent when there is no sound device, and the
    ball's wrap-around asks for its sound (every 80 steps of 1/60 s)."""
    report = ("\nfrom airlock_pygame import default_sounds\n"
              "print('sounds requested:', default_sounds.take_report().requested)\n")
    result = run_python(readme_example + report, tmp_path, SDL_AUDIODRIVER=None,
                        SDL_VIDEODRIVER=None, DISPLAY=None, WAYLAND_DISPLAY=None)
    assert result.returncode == 0, result.stderr
    assert "FrameRecord(frame=119" in result.stdout
    requested = int(result.stdout.splitlines()[-1].removeprefix("sounds requested: "))
    assert requested >= 1, result.stdout
    warnings = result.stderr.count(SILENT)
    assert warnings == (0 if audio_device_available() else 1), result.stderr
    assert "ALSA lib" not in result.stderr or audio_device_available()


def test_a_mixer_that_cannot_open_falls_back_to_silence_with_one_warning(
    tmp_path: Path,
) -> None:
    code = ("import os, pygame\nfrom airlock_pygame import tone\npygame.init()\n"
            "assert not pygame.mixer.get_init()\n"
            "sounds = [tone(440, 20), tone(660, 20)]\n"
            "print('mixer', bool(pygame.mixer.get_init()), len(sounds), "
            "os.environ['SDL_AUDIODRIVER'])\n")
    result = run_python(code, tmp_path, SDL_AUDIODRIVER="no-such-driver", SDL_VIDEODRIVER="dummy")
    assert result.returncode == 0, result.stderr
    # a mixer (silent), both sounds made, and the user's setting left as it was
    assert result.stdout.splitlines()[-1] == "mixer True 2 no-such-driver"
    assert result.stderr.count(SILENT) == 1, result.stderr


def test_a_sound_server_or_device_counts_as_audio(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "pulse").mkdir()
    (tmp_path / "pulse" / "native").touch()
    assert audio_device_available()
    monkeypatch.setenv("PULSE_SERVER", "tcp:127.0.0.1")
    (tmp_path / "pulse" / "native").unlink()
    assert audio_device_available()
