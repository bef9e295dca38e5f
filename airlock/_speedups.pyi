# The compiled kernel (airlock/_speedups.c): present only where it was built.
from typing import Any

def enqueue(task: Any, /, *args: Any, **kwargs: Any) -> None: ...
