"""The page runner of tests/test_docs_examples.py (its docstring has the rules): it extracts a
Markdown page's fenced blocks and runs them. ``python tests/docs_pages.py PAGE`` runs one page;
the test runs every page so, each in a process of its own, which imports no pytest (a tenth of
a second per page).
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import re
import shlex
import subprocess
import sys
import tempfile
import types
from dataclasses import dataclass, field
from pathlib import Path

import airlock

RUN_LANGUAGES = frozenset({"python", "py"})
NO_RUN = ".no-run"

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
_TITLE = re.compile(r"""title=["']([^"']*)["']""")
_ARGS = re.compile(r"""args=["']([^"']*)["']""")
#: pytest's closing line ("1 failed, 2 passed in 0.05s"), its duration left out
_PYTEST_TOTAL = re.compile(r"^=*\s*(?P<total>\d+ \w+(?:, \d+ \w+)*) in [\d.]+s\b.*$")
#: pytest options of every docs pytest run: quiet, and without plugins that are slow to start
PYTEST = ("-q", "-p", "no:cacheprovider", "-p", "no:benchmark", "-p", "no:hypothesispytest")


@dataclass
class Block:
    """One fenced code block: where it starts (1-based line of its first code line), its info."""

    language: str
    classes: list[str]
    title: str | None
    line: int
    source: str
    output: Block | None = field(default=None, repr=False)
    args: str = ""

    @property
    def runs(self) -> bool:
        return self.language in RUN_LANGUAGES and NO_RUN not in self.classes

    @property
    def is_file(self) -> bool:
        """A running block titled ``NAME.py``: written to the page's files directory."""
        return self.runs and self.title is not None and self.title.endswith(".py")

    @property
    def is_pytest_file(self) -> bool:
        """A test module or conftest: run by pytest, not in the page's namespace."""
        name = Path(self.title or "").name
        return self.is_file and (name.startswith("test_") or name == "conftest.py")

    @property
    def is_output(self) -> bool:
        return self.language == "text" and self.title == "Output"


def parse_info(info: str) -> tuple[str, list[str], str | None]:
    """Split a fence info string into (language, classes, title).

    Accepts ``python``, ``python title="x.py"`` and ``{.python .no-run title="x.py"}``.
    """
    title_match = _TITLE.search(info)
    title = title_match.group(1) if title_match else None
    bare = _TITLE.sub("", info).strip()
    if bare.startswith("{") and bare.endswith("}"):
        classes = [part for part in bare[1:-1].split() if part.startswith(".")]
        language = classes[0][1:] if classes else ""
        return language, classes[1:], title
    words = bare.split()
    return (words[0] if words else ""), [], title


def extract_blocks(text: str) -> list[Block]:
    """Every fenced block of a Markdown text, with each ``Output`` block tied to its code."""
    lines = text.splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opened = _OPEN.match(lines[index])
        index += 1
        if opened is None:
            continue
        indent, fence = opened.group("indent"), opened.group("fence")
        close = re.compile(rf"^{re.escape(indent)}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        start = index
        while index < len(lines) and not close.match(lines[index]):
            index += 1
        if index == len(lines):
            raise ValueError(f"code block opened at line {start} is never closed")
        body = [line[len(indent):] if line.startswith(indent) else line.lstrip()
                for line in lines[start:index]]
        index += 1
        language, classes, title = parse_info(opened.group("info"))
        block = Block(language, classes, title, start + 1, "".join(f"{b}\n" for b in body))
        args = _ARGS.search(opened.group("info"))
        block.args = args.group(1) if args else ""
        if block.is_output and blocks and blocks[-1].runs and _adjacent(lines, blocks[-1], start):
            blocks[-1].output = block
        blocks.append(block)
    return blocks


def _adjacent(lines: list[str], previous: Block, output_start: int) -> bool:
    """True when only blank lines stand between ``previous`` and the block opening before line
    ``output_start`` (0-based index of the output's first code line)."""
    previous_end = previous.line - 1 + previous.source.count("\n")  # index of its closing fence
    between = lines[previous_end + 1 : output_start - 1]
    return all(not line.strip() for line in between)


def run_page(path: Path) -> int:
    """Run the page's Python blocks in order in one fresh namespace; return how many ran."""
    blocks = [b for b in extract_blocks(path.read_text(encoding="utf-8")) if b.runs]
    name = "docs_example_" + re.sub(r"\W", "_", str(path))
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module  # lets dataclasses, pickling and inspect find the page's code
    try:
        with tempfile.TemporaryDirectory(prefix="docs-files-") as files:
            for block in blocks:
                if block.is_file:
                    written = Path(files, block.title or "")
                    written.parent.mkdir(parents=True, exist_ok=True)
                    with written.open("a", encoding="utf-8") as handle:
                        handle.write(block.source)
                if block.is_pytest_file:
                    got = run_pytest_file(path, block, Path(files))
                else:
                    got = run_block(path, block, module)
                if block.output is not None:
                    expected = block.output.source.rstrip()
                    assert got == expected, (
                        f"{path.name}:{block.line}: printed output differs from the Output block "
                        f"at line {block.output.line}\n--- expected\n{expected}\n--- got\n{got}"
                    )
        leaked = airlock.get_current_scope()
        assert leaked is None, f"{path.name} left {leaked!r} open; close every scope it opens"
    finally:
        del sys.modules[name]
    return len(blocks)


def run_block(path: Path, block: Block, module: types.ModuleType) -> str:
    """Run ``block`` in the page's namespace; return what it printed."""
    code = compile("\n" * (block.line - 1) + block.source, str(path), "exec")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, module.__dict__)
    return printed.getvalue().rstrip()


def run_pytest_file(path: Path, block: Block, files: Path) -> str:
    """Run pytest on a ``test_*.py`` block in the page's files directory; return its closing
    line without the duration (a ``conftest.py`` block is only written)."""
    title = block.title or ""
    if not Path(title).name.startswith("test_"):
        return ""
    command = [sys.executable, "-m", "pytest", *PYTEST, *shlex.split(block.args), title]
    done = subprocess.run(command, cwd=files, capture_output=True, text=True, timeout=300,
                          check=False)
    totals = [m["total"] for m in map(_PYTEST_TOTAL.match, done.stdout.splitlines()) if m]
    where = f"{path.name}:{block.line}: pytest {title}"
    assert totals, f"{where} printed no result line\n{done.stdout}\n{done.stderr}"
    assert block.output is not None or done.returncode == 0, (
        f"{where} failed (add an Output block if failures are what it shows)\n{done.stdout}"
    )
    return totals[-1]


if __name__ == "__main__":
    # The child process of tests/test_docs_examples.py: run one page, report how many blocks ran.
    # Drop tests/ (the script's directory) from the path, so tests/adapters cannot shadow the
    # real ``adapters`` package the pages import.
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    ran = contextvars.copy_context().run(run_page, Path(sys.argv[1]))
    print(f"ran {ran} blocks")
