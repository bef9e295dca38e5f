"""pygame tests run headless: SDL dummy drivers are selected before pygame is initialised."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airlock_pygame import use_dummy_drivers
from airlock_pygame._waiting import set_waiting_loop

use_dummy_drivers()

import pygame  # noqa: E402  (after the drivers are chosen)

SIZE = (320, 240)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _no_waiting_loop() -> Iterator[None]:
    """Requests made outside a frame go to no earlier test's GameLoop."""
    set_waiting_loop(None)
    yield
    set_waiting_loop(None)


@pytest.fixture
def readme_example() -> str:
    """The first python block of the README's "## pygame" section, as a reader copies it."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## pygame\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.fixture
def screen() -> Iterator[pygame.Surface]:
    """A fresh pygame (display, font, mixer with 8 channels) and its display surface."""
    pygame.init()
    if not pygame.mixer.get_init():
        pygame.mixer.init()
    pygame.mixer.set_num_channels(8)
    surface = pygame.display.set_mode(SIZE)
    pygame.event.clear()
    yield surface
    pygame.quit()
