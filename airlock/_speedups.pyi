# The compiled kernel (airlock/_speedups.c): present only where it was built.
from typing import Any

def enqueue(task: Any, /, *args: Any, **kwargs: Any) -> None: ...
def inline_frame(
    tick: Any, inbox: Any, claim: list[Any], open_frame: Any, close_frame: Any, /
) -> tuple[Any, Any]: ...
