"""The documentation site builds with ``mkdocs build --strict``, offline, and quietly.

Strict mode turns every warning into a failure: a broken link or anchor, a page missing from
``nav``, a docstring mkdocstrings cannot render. When all is well the build prints only MkDocs'
own progress lines: no notice, no colours, no INFO from a plugin. It runs as the README and
docs/contributing.md say (``NO_MKDOCS_2_WARNING=1`` silences Material for MkDocs' end-of-life
notice).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: the tests of the built site (``mkdocs build --strict``: CI's)
BUILDS = pytest.mark.ci_only("the docs site: built strictly, every section and name in it")


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
    noise = [line for line in output.splitlines() if line.strip() and not PROGRESS.match(line)]
    assert not noise, "the docs build should print only its progress lines:\n" + "\n".join(noise)
    return out


#: the lines MkDocs prints on a clean build
PROGRESS = re.compile(r"INFO +- +(Cleaning site directory|Building documentation to directory: "
                      r".*|Documentation built in [\d.]+ seconds)$")


@BUILDS
def test_strict_build_writes_every_section(site: Path) -> None:
    for page in ("index.html", "why/index.html", "concepts/nesting/index.html",
                 "guides/game-loop/index.html", "reference/index.html", "contributing/index.html"):
        assert (site / page).is_file(), f"{page} was not built"
    assert (site / "img" / "nesting.svg").is_file()
    assert (site / "img" / "frame-timeline.svg").is_file()


@BUILDS
def test_api_reference_documents_every_public_name(site: Path) -> None:
    import airlock

    html = (site / "reference" / "index.html").read_text(encoding="utf-8")
    missing = [name for name in airlock.__all__ if f'id="airlock.{name}"' not in html]
    assert not missing, f"reference/index.md lacks '::: airlock.X' entries for {missing}"


@BUILDS
def test_site_needs_no_network(site: Path) -> None:
    """No web fonts and no CDN scripts: the built site works offline."""
    offenders = []
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for host in ("fonts.googleapis.com", "fonts.gstatic.com", "unpkg.com", "cdn.jsdelivr"):
            if host in text:
                offenders.append(f"{page.relative_to(site)}: {host}")
    assert not offenders, offenders


def test_the_docs_extra_brings_a_signature_formatter() -> None:
    """Without Black or Ruff, mkdocstrings says so on every build (an INFO line)."""
    requirements = importlib.metadata.requires("airlock-tick") or []
    docs = [r for r in requirements if 'extra == "docs"' in r]
    assert any(r.startswith(("ruff", "black")) for r in docs), docs
