"""Keys that raise, for the tests of the stages that hash and compare ``_key`` values."""

from __future__ import annotations


class EqRaises:
    """A ``_key`` that hashes like ``like`` (the enqueue takes it) and equals only itself:
    compared with a held effect's key, it raises."""

    def __init__(self, like: object = "eq raises") -> None:
        self.like = like

    def __hash__(self) -> int:
        return hash(self.like)

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        raise RuntimeError("EqRaises cannot be compared")


class HashRaisesLater:
    """A key whose hash works at the enqueue and raises once armed (``armed = True`` on the
    class, for every such key, or on one key)."""

    armed = False

    def __hash__(self) -> int:
        if self.armed:
            raise ValueError("HashRaisesLater cannot be hashed now")
        return 2
