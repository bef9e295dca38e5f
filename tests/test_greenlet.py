"""The greenlet version check (seed 003): warn when greenlet predates contextvars support."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

import pytest

from airlock._greenlet import _greenlet_version, check_greenlet


def test_old_greenlet_warns() -> None:
    with pytest.warns(RuntimeWarning, match="greenlet without contextvars support") as record:
        assert check_greenlet("0.4.17") is False
    assert "greenlet>=1.0" in str(record[0].message)


@pytest.mark.parametrize("version", ["1.0.0", "3.0.3", "not-a-version"])
def test_supported_or_unparsable_versions_are_quiet(version: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_greenlet(version) is True


def test_the_installed_greenlet_is_supported(
    require_imports: Callable[[Iterable[str]], None],
) -> None:
    require_imports(["greenlet"])
    installed = _greenlet_version()
    assert installed is not None and int(installed.split(".")[0]) >= 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_greenlet() is True
