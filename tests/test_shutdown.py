"""A tick never closed that still has effects waiting says so, when it is collected or at exit
(``_shutdown``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run(body: str) -> str:
    """Run ``body`` in a fresh interpreter; return what it wrote to stderr."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)], capture_output=True, text=True,
        timeout=60, check=True,
    )
    return done.stderr


@pytest.mark.parametrize(
    ("body", "waiting"),
    [
        ("tick.post(print, 'posted')", 1),
        ("with tick:\n    airlock.enqueue(held, 1)\n    airlock.enqueue(held, 2, _key=2)", 2),
        ("with tick:\n    airlock.enqueue(later)", 1),
    ],
    ids=["a post", "held by debounce", "enqueued by an effect between frames"],
)
def test_a_tick_left_open_with_effects_waiting_warns_at_exit(body: str, waiting: int) -> None:
    stderr = run(f"""
import airlock
tick = airlock.tick_scope()
@airlock.debounce(60)
def held(n): ...
def later():
    airlock.enqueue(print, "never")
{body}
""")
    assert "was never closed" in stderr and f"{waiting} intent(s) still waited" in stderr
    assert "call tick.close()" in stderr


@pytest.mark.parametrize("body", [
    "tick.post(print, 'posted')\ntick.close()",  # closed: its last frame ran it
    "with tick:\n    airlock.enqueue(print, 'ran')",  # nothing waits
])
def test_a_closed_or_idle_tick_says_nothing_at_exit(body: str) -> None:
    stderr = run(f"import airlock\ntick = airlock.tick_scope()\n{body}\n")
    assert "never closed" not in stderr


def test_a_tick_collected_with_effects_waiting_warns_once() -> None:
    stderr = run("""
import gc, airlock
tick = airlock.tick_scope()
tick.post(print, "posted")
del tick
gc.collect()
print("collected")
""")
    assert stderr.count("was never closed") == 1
    assert "1 intent(s) still waited for a frame when it was collected" in stderr


def test_a_collection_only_notes_the_tick_and_a_later_tick_scope_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A collection may run inside a logging handler holding its lock: the tick's finalizer
    logs nothing there; the next ``tick_scope()`` reports it."""
    import gc

    import airlock
    from airlock._shutdown import report_collected

    gc.collect()
    report_collected()  # (what earlier tests left)
    caplog.clear()
    tick = airlock.tick_scope()
    tick.post(print, "posted")
    del tick
    gc.collect()
    assert "never closed" not in caplog.text  # (noted, not logged, in the collection)
    airlock.tick_scope().close()  # a safe point
    assert "pending=1> was never closed: 1 intent(s) still waited for a frame when it was " \
        "collected" in caplog.text


def test_a_logging_handler_that_makes_a_tick_does_not_recurse() -> None:
    """Reporting a collected tick logs; a handler that makes a tick (to ship the record) must
    not start the report again inside it."""
    stderr = run("""
import gc, logging, airlock
depth = [0, 0]
class Shipping(logging.Handler):
    def emit(self, record):
        depth[0] += 1
        depth[1] = max(depth[1], depth[0])
        airlock.tick_scope().close()
        depth[0] -= 1
logging.getLogger("airlock").addHandler(Shipping())
for _ in range(300):
    tick = airlock.tick_scope()
    tick.post(print, "posted")
    del tick
gc.collect()
airlock.tick_scope().close()
print("max nesting", depth[1])
import sys; sys.stderr.write(f"nesting {depth[1]}\\n")
""")
    assert "nesting 1" in stderr and "RecursionError" not in stderr
