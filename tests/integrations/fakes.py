"""Stand-ins for task objects of frameworks, for the executors' capability tests."""

from __future__ import annotations

from typing import Any


def only_method(method: str) -> Any:
    """A task object that offers just ``method`` (recording its calls) and must not be called."""

    class Task:
        def __init__(self) -> None:
            self.sent: list[tuple[Any, ...]] = []

        def __call__(self, *args: Any, **kwargs: Any) -> None:
            raise AssertionError(f"must go through {method}(), not run inline")

    def record(self: Any, *args: Any, **kwargs: Any) -> str:
        self.sent.append((args, kwargs))
        return f"sent by {method}"

    setattr(Task, method, record)
    return Task()
