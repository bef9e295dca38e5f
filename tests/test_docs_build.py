"""The documentation site builds with ``mkdocs build --strict``, offline.

Strict mode turns every warning into a failure: a broken link or anchor, a page missing from
``nav``, a docstring mkdocstrings cannot render.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    problems = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert result.returncode == 0, (
        f"mkdocs build --strict failed (exit {result.returncode}):\n"
        + "\n".join(problems or output.splitlines()[-40:])
    )
    return out


def test_strict_build_writes_every_section(site: Path) -> None:
    for page in ("index.html", "why/index.html", "concepts/nesting/index.html",
                 "guides/game-loop/index.html", "reference/index.html", "contributing/index.html"):
        assert (site / page).is_file(), f"{page} was not built"
    assert (site / "img" / "nesting.svg").is_file()
    assert (site / "img" / "frame-timeline.svg").is_file()


def test_api_reference_documents_every_public_name(site: Path) -> None:
    import airlock

    html = (site / "reference" / "index.html").read_text(encoding="utf-8")
    missing = [name for name in airlock.__all__ if f'id="airlock.{name}"' not in html]
    assert not missing, f"reference/index.md lacks '::: airlock.X' entries for {missing}"


def test_site_needs_no_network(site: Path) -> None:
    """No web fonts and no CDN scripts: the built site works offline."""
    offenders = []
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for host in ("fonts.googleapis.com", "fonts.gstatic.com", "unpkg.com", "cdn.jsdelivr"):
            if host in text:
                offenders.append(f"{page.relative_to(site)}: {host}")
    assert not offenders, offenders
