"""The pytest plugin (installed with airlock-tick, loaded by pytest through its ``pytest11``
entry point; ``-p no:airlock`` turns it off).

Rules:
- Every test: whatever it or its function-scoped fixtures change with ``airlock.configure()``
  is undone when it ends (the configuration in force before them comes back; what fixtures
  of a wider scope configure stays for their tests).
- It needs pytest 8 or newer (it uses new-style hook wrappers).
- A test that asks for a *test scope* runs its function body inside an
  ``airlock.testing.EnqueueRecorder``: the outermost scope, so the code under test may enqueue
  directly, and every scope it opens (ticks included) is captured by the test scope and decides
  nothing (the nesting rules). When the body ends, the test scope flushes under its policy;
  when the body raises, the test scope discards its intents.
- A test asks for one with the ``airlock_recorder`` fixture (the recorder is the test scope;
  policy ``DropAll()`` unless a marker says otherwise), with
  ``@pytest.mark.airlock(policy=P)`` (policy ``P``), with ``@pytest.mark.airlock(forbid=True)``
  (policy ``AssertNoEffects()``: an ``enqueue()`` fails the test where it is called, and an
  intent captured from a scope the code opened fails it when the body ends), or, for every test
  of the run, with ``--airlock-drop-all`` (policy ``DropAll()`` where no marker sets one).
- Fixtures run outside the test scope: it opens when the test function starts.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from ._configure import configure, get_configuration, reset_configuration
from ._policies import AssertNoEffects, DropAll, Policy, check_policy
from .testing import EnqueueRecorder

__all__ = ["airlock_recorder"]

MARKER = "airlock"
_MARKER_HELP = (
    "airlock(policy=None, forbid=False): run the test function inside an airlock test scope "
    "with this policy (forbid=True: fail the test if it enqueues anything). See the "
    "airlock-tick testing guide."
)
_RECORDER = pytest.StashKey[EnqueueRecorder]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("airlock", "airlock-tick")
    group.addoption(
        "--airlock-drop-all",
        action="store_true",
        default=False,
        help="run every test function inside an airlock test scope whose policy drops every "
        "effect (tests marked @pytest.mark.airlock(policy=...) keep theirs)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)


def _marker_policy(item: pytest.Item) -> Policy | None:
    """The policy ``@pytest.mark.airlock(...)`` asks for (None: the marker sets none)."""
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return None
    where = "@pytest.mark.airlock"
    unknown = sorted(set(marker.kwargs) - {"policy", "forbid"})
    if marker.args or unknown:
        pytest.fail(f"{where} takes only the keyword arguments policy= and forbid=, got "
                    f"{[*marker.args, *unknown]}", pytrace=False)
    policy, forbid = marker.kwargs.get("policy"), marker.kwargs.get("forbid", False)
    if not isinstance(forbid, bool):
        pytest.fail(f"{where}(forbid=...) must be True or False, got {forbid!r}", pytrace=False)
    if forbid and policy is not None:
        pytest.fail(f"{where}: give policy= or forbid=True, not both", pytrace=False)
    if forbid:
        return AssertNoEffects()
    if policy is None:
        return None
    try:
        return check_policy(policy)
    except TypeError as error:
        pytest.fail(f"{where}(policy=...): {error}", pytrace=False)


def _test_scope(item: pytest.Item) -> EnqueueRecorder | None:
    """The item's test scope for this call: the one the ``airlock_recorder`` fixture made, or a
    new one when the marker or ``--airlock-drop-all`` asks for it (None: no test scope)."""
    recorder = item.stash.get(_RECORDER, None)
    if recorder is not None:
        del item.stash[_RECORDER]  # a rerun of the test sets up a new one
        return recorder
    policy = _marker_policy(item)
    if policy is None and item.config.getoption("airlock_drop_all"):
        policy = DropAll()
    return None if policy is None else EnqueueRecorder(policy)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _marker_policy(item)  # a malformed marker fails before any fixture runs


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    recorder = _test_scope(item)
    if recorder is None:
        return (yield)
    with recorder:
        result = yield
        if isinstance(recorder.policy, AssertNoEffects) and len(recorder):
            pytest.fail(
                f"the test enqueued {len(recorder)} effect(s) under "
                f"@pytest.mark.airlock(forbid=True): "
                + ", ".join(str(r).removesuffix(" -> waiting") for r in recorder),
                pytrace=False,
            )
    return result


@pytest.fixture(autouse=True)
def _airlock_configuration_restored() -> Iterator[None]:
    """Undo the test's ``airlock.configure()`` calls. A plugin's autouse fixture is set up
    before any other function-scoped fixture, and torn down after them; what fixtures of wider
    scope configured before it is kept."""
    saved = get_configuration()  # None where nothing was configured
    yield
    reset_configuration()
    configure(**saved)


@pytest.fixture
def airlock_recorder(request: pytest.FixtureRequest) -> EnqueueRecorder:
    """The test scope, as an ``airlock.testing.EnqueueRecorder``: ``.intents`` / ``.names()`` /
    ``.count(name)`` list what the test's code has enqueued into it so far (outcome ``waiting``;
    not yet what waits in an inner scope or a tick's open frame); its
    policy is ``DropAll()`` unless ``@pytest.mark.airlock(policy=...)`` gives another."""
    node = request.node
    recorder = EnqueueRecorder(_marker_policy(node))
    node.stash[_RECORDER] = recorder
    return recorder
