"""Kanban board (Textual): cards' saves, toasts and network sends released once per tick.

``python -m demos board [--data-dir DIR]`` runs it in the terminal (F12: effect inspector).
``--screenshot PATH`` runs a scripted session headless and writes an SVG of the screen.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

SUMMARY = "Textual kanban board: saves, toasts, UDP sync via airlock ticks (F12 inspector)"
EXTRA = "textual"
REQUIRES = ("textual",)

__all__ = ["EXTRA", "REQUIRES", "SUMMARY", "main"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m demos board", description=SUMMARY)
    parser.add_argument("--data-dir", type=Path, help="where board.json goes (default: a temp dir)")
    parser.add_argument("--screenshot", type=Path, help="run a scripted session, write an SVG")
    args = parser.parse_args(argv)
    from ._app import BoardApp

    with tempfile.TemporaryDirectory(prefix="airlock-board-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        if args.screenshot is not None:
            from ._script import scripted_screenshot

            svg = asyncio.run(scripted_screenshot(BoardApp(data_dir)))
            args.screenshot.parent.mkdir(parents=True, exist_ok=True)
            args.screenshot.write_text(svg, encoding="utf-8")
            print(f"wrote {args.screenshot}")
            return 0
        BoardApp(data_dir).run()
    return 0
