"""Shared fixtures: every test starts with airlock's process-wide state at its defaults."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import airlock
from airlock._config import reset_defaults
from airlock._context import NO_SCOPE, current_target

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


@pytest.fixture(autouse=True)
def _reset_airlock() -> Iterator[None]:
    reset_defaults()
    assert current_target.get() is NO_SCOPE, "a previous test left a scope open"
    yield
    reset_defaults()
    leaked = current_target.get()
    if leaked is not NO_SCOPE:
        current_target.set(NO_SCOPE)
        pytest.fail(f"test left {leaked!r} as the current airlock scope")


@pytest.fixture
def calls() -> list[tuple[str, tuple[object, ...]]]:
    """A log the test's effects append to."""
    return []


__all__ = ["airlock"]
