"""The board's storage: the whole board as one JSON file, written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["COLUMNS", "BoardStore"]

COLUMNS = ("todo", "doing", "done")


class BoardStore:
    """Saves ``{column: [card, ...]}`` to ``path``; ``saves`` counts the writes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.saves = 0

    def load(self) -> dict[str, list[str]]:
        if not self.path.exists():
            return {"todo": ["Write spec", "Fix tick bug", "Ship demo"], "doing": [], "done": []}
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return {column: list(data.get(column, [])) for column in COLUMNS}

    def save(self, board: dict[str, list[str]]) -> None:
        """Write the board (the effect a tick runs once, however many moves it had)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(board, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)
        self.saves += 1
