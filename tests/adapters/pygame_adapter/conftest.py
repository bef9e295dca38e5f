"""pygame tests run headless: SDL dummy drivers are selected before pygame is initialised."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airlock_pygame import use_dummy_drivers

use_dummy_drivers()

import pygame  # noqa: E402  (after the drivers are chosen)

SIZE = (320, 240)


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
