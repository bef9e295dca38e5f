"""Every Python code block in README.md and docs/**/*.md runs, page by page.

The rules (also written for authors in docs/contributing.md):

- Blocks fenced as ``python`` or ``py`` run, in page order, in one namespace per page. Each page
  runs in its own Python process: a fresh airlock state (default policy, executor and scope
  class; no scope open), and no global state (Django settings, a Celery app, a Dramatiq broker,
  pygame) leaks between pages or into the rest of the test suite.
- A block fenced as ``{.python .no-run}`` is illustrative and is skipped; nothing else is.
- A ``text`` block titled ``Output`` right after a Python block must equal what that block
  printed.
- A page must leave no airlock scope open.
- A running block titled ``NAME.py`` is also a file: it is written (blocks with the same title
  add up) into a directory of the page's files. One titled ``test_*.py`` or ``conftest.py`` is
  a pytest file and is not run in the page's namespace: a ``test_*.py`` block runs
  ``python -m pytest -q TITLE`` in that directory (with ``args="..."`` from the fence added),
  and its ``Output`` block, if any, must equal pytest's closing line without its duration
  (``2 passed``); without one, every test must pass.
- The pages run where ``CI`` is set (``ci_only``: a release check, as the docs build is; a
  page's process takes seconds, and the README's test command stays under a minute).
- README.md runs with nothing set that the README does not show: the SDL dummy drivers the
  rest of the docs get (for headless pygame) are removed from its environment.
"""

from __future__ import annotations

import contextvars
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import cast

import docs_pages
import pytest
from docs_pages import NO_RUN, RUN_LANGUAGES, extract_blocks, run_page

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def doc_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


IMPORT = re.compile(r"^\s*(?:import|from)\s+([\w.]+)", re.MULTILINE)


def run_page_process(path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``path``'s blocks in a child process of their own (see the module's rules)."""
    return subprocess.run(
        [sys.executable, docs_pages.__file__, str(path)],
        cwd=ROOT, env=page_environment(path), capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def page_runs(
    request: pytest.FixtureRequest,
) -> Iterator[dict[Path, Future[subprocess.CompletedProcess[str]]]]:
    """The child process of every page this run tests, started together, as many at once as
    there are cores, plus one: the tests then read their page's result in order. (A page whose
    packages are missing runs too; its test is skipped before looking.)"""
    selected = [cast(Path, item.callspec.params["path"]) for item in request.session.items
                if isinstance(item, pytest.Function) and item.originalname == PAGE_TEST
                and item.get_closest_marker("skip") is None]  # (ci_only, in a local run)
    # one more than the cores: the README's pygame example spends most of its time waiting
    # for its frames' clock
    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 1) + 1) as pool:
        runs = {path: pool.submit(run_page_process, path) for path in selected}
        yield runs
        for run in runs.values():
            run.cancel()


PAGE_TEST = "test_page_examples_run"


#: the pages run where CI is set
DOCS_PAGES = pytest.mark.ci_only("the README's and the docs pages' examples, each page in its "
                                 "own process")


@pytest.mark.parametrize("path", [
    pytest.param(path, marks=DOCS_PAGES, id=str(path.relative_to(ROOT))) for path in doc_pages()
])
def test_page_examples_run(
    path: Path, require_imports: Callable[[Iterable[str]], None],
    page_runs: dict[Path, Future[subprocess.CompletedProcess[str]]],
) -> None:
    assert path.exists(), f"{path} is missing"
    blocks = extract_blocks(path.read_text(encoding="utf-8"))
    require_imports(name for b in blocks if b.runs for name in IMPORT.findall(b.source))
    unknown = [b for b in blocks if b.language in RUN_LANGUAGES and set(b.classes) - {NO_RUN}]
    assert not unknown, (
        f"{path.name}: blocks at lines {[b.line for b in unknown]} use classes other than "
        f"{NO_RUN!r}; see docs/contributing.md for the code-block convention"
    )
    result = page_runs[path].result()
    assert result.returncode == 0, f"{path.name}: an example failed\n{result.stderr}"
    assert result.stdout.splitlines()[-1] == f"ran {sum(b.runs for b in blocks)} blocks"


def page_environment(path: Path) -> dict[str, str]:
    """The environment a page runs in: README.md gets only what a reader's shell has; the
    other pages also get SDL's dummy drivers, so their pygame examples run headless."""
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for name in (*HEADLESS, "PYGAME_HIDE_SUPPORT_PROMPT"):  # set by the root conftest
        env.pop(name, None)
    if path.name != "README.md":
        env.update(HEADLESS)
    return env


HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def test_docs_have_runnable_examples() -> None:
    """The convention is 'run everything': skipped blocks stay a small minority."""
    blocks = [b for p in doc_pages() if p.exists() for b in extract_blocks(p.read_text("utf-8"))]
    python = [b for b in blocks if b.language in RUN_LANGUAGES]
    skipped = [b for b in python if not b.runs]
    assert len(python) >= 40, f"only {len(python)} Python blocks found; is the extractor broken?"
    assert len(skipped) * 5 <= len(python), f"{len(skipped)} of {len(python)} blocks are no-run"


# -- the extractor itself ----------------------------------------------------------------------

SAMPLE = '''\
Intro.

```python
print("hi")
```

```text title="Output"
hi
```

!!! note
    ```py title="nested.py"
    x = 1
    ```

```{.python .no-run title="settings.py"}
INSTALLED_APPS = []
```

````markdown
```python
not_a_block()
```
````
'''


def test_extract_blocks_reads_fences_titles_indent_and_outputs() -> None:
    blocks = extract_blocks(SAMPLE)
    assert [(b.language, b.runs, b.line) for b in blocks] == [
        ("python", True, 4),
        ("text", False, 8),
        ("py", True, 13),
        ("python", False, 17),
        ("markdown", False, 21),
    ]
    first, output, nested, skipped, _ = blocks
    assert first.output is output and output.source == "hi\n"
    assert nested.title == "nested.py" and nested.source == "x = 1\n"
    assert skipped.classes == [NO_RUN] and skipped.title == "settings.py"


def test_output_block_must_follow_directly() -> None:
    text = '```python\nprint(1)\n```\n\nProse between.\n\n```text title="Output"\n1\n```\n'
    code, output = extract_blocks(text)
    assert code.output is None and output.is_output


def test_unclosed_fence_is_an_error() -> None:
    with pytest.raises(ValueError, match="never closed"):
        extract_blocks("```python\nx = 1\n")


def assert_page_fails(page: Path, text: str, match: str) -> None:
    """Writing ``text`` to ``page`` makes ``run_page`` fail with a message matching ``match``."""
    page.write_text(text, "utf-8")
    with pytest.raises(AssertionError, match=match):
        contextvars.copy_context().run(run_page, page)


def test_run_page_checks_printed_output(tmp_path: Path) -> None:
    assert_page_fails(tmp_path / "output.md",
                      '```python\nprint("two")\n```\n\n```text title="Output"\none\n```\n',
                      "printed output differs")


def test_run_page_reports_a_leaked_scope(tmp_path: Path) -> None:
    assert_page_fails(tmp_path / "leak.md",
                      "```python\nimport airlock\nairlock.scope().enter()\n```\n",
                      r"left .* open")


PYTEST_PAGE = '''\
```python title="game.py"
def double(x):
    return 2 * x
```

```python title="test_game.py"
from game import double

def test_double():
    assert double(2) == 4

def test_wrong():
    assert double(2) == 5
```

```text title="Output"
1 failed, 1 passed
```

```python title="test_game.py" args="-k test_double"
```

```text title="Output"
1 passed, 1 deselected
```

```python
print(double(21))
```
'''


@pytest.mark.ci_only("a docs page's pytest file blocks, run under pytest in a subprocess")
def test_pytest_file_blocks_run_under_pytest_with_the_pages_files(tmp_path: Path) -> None:
    page = tmp_path / "pytest.md"
    page.write_text(PYTEST_PAGE, "utf-8")
    game, test_file, _, _ = [b for b in extract_blocks(PYTEST_PAGE) if b.runs]
    assert game.is_file and not game.is_pytest_file and test_file.is_pytest_file
    assert contextvars.copy_context().run(run_page, page) == 4
    assert_page_fails(page, PYTEST_PAGE.replace("1 failed, 1 passed", "2 passed"),
                      r"--- got\s+1 failed, 1 passed")


def test_a_failing_pytest_block_without_output_fails_the_page(tmp_path: Path) -> None:
    assert_page_fails(tmp_path / "failing.md",
                      '```python title="test_x.py"\ndef test_x():\n    assert False\n```\n',
                      r"test_x\.py failed")


def test_readme_runs_without_the_headless_sdl_drivers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")  # as the root conftest sets for the suite
    readme = page_environment(ROOT / "README.md")
    assert "SDL_AUDIODRIVER" not in readme and "SDL_VIDEODRIVER" not in readme
    assert page_environment(DOCS / "guides" / "pygame.md")["SDL_AUDIODRIVER"] == "dummy"
