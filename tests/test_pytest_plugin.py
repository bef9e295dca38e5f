"""The pytest plugin (airlock/pytest_plugin.py), run on small test files with ``pytester``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest

import airlock
from airlock.testing import EnqueueRecorder

#: code under test, importable by the generated test files as ``shop``
SHOP = '''
import airlock

ran = []

def charge(cart):
    ran.append(("charge", cart))

def send_receipt(cart):
    ran.append(("send_receipt", cart))

def checkout(cart):
    """Opens its own scope, as library code may: the test scope captures it."""
    with airlock.scope():
        airlock.enqueue(charge, cart)
        airlock.enqueue(send_receipt, cart)

def play_frames(n):
    tick = airlock.tick_scope()
    for frame in range(n):
        with tick:
            airlock.enqueue(send_receipt, frame)
    tick.close()
'''


QUIET = ("-p", "no:benchmark", "-p", "no:hypothesispytest")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run pytest in-process on the generated files, without the slow-starting plugins."""
    return pytester.runpytest(*QUIET, "-p", "no:asyncio", *args)


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(shop=SHOP)
    pytester.syspathinsert()
    return pytester


def test_the_plugin_is_installed_through_its_entry_point(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--help")
    result.stdout.fnmatch_lines(["*--airlock-drop-all*"])
    result = run(pytester, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.airlock(policy=None, forbid=False):*"])
    result = run(pytester, "-p", "no:airlock", "--markers")
    assert "@pytest.mark.airlock" not in result.stdout.str()  # how to turn it off


def test_recorder_shows_what_the_code_enqueued_and_runs_nothing(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_plugged_recorder='''
        import airlock
        import shop

        def test_checkout(airlock_recorder):
            shop.checkout(7)
            shop.play_frames(2)
            airlock.enqueue(shop.charge, 8)
            assert airlock_recorder.names() == ["charge", "send_receipt", "send_receipt",
                                                "send_receipt", "charge"]
            assert airlock_recorder.count("send_receipt") == 3
            assert airlock_recorder.intents[0].args == (7,)
            assert airlock_recorder.intents[0].outcome == "waiting"
            assert shop.ran == []

        def test_nothing_ran_when_it_ended():
            assert shop.ran == []
    ''')
    run(shop).assert_outcomes(passed=2)


def test_marker_policy_decides_what_runs_when_the_test_ends(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_plugged_policy='''
        import airlock
        import pytest
        import shop

        @pytest.mark.airlock(policy=airlock.BlockTasks({"charge"}))
        def test_checkout():
            shop.checkout(1)
            assert shop.ran == []          # captured by the test scope: nothing runs yet

        def test_then_only_the_receipt_was_sent():
            assert shop.ran == [("send_receipt", 1)]

        @pytest.mark.airlock(policy=airlock.BlockTasks({"send_receipt"}))
        def test_recorder_follows_the_marker(airlock_recorder):
            shop.checkout(2)
            assert airlock_recorder.names() == ["charge", "send_receipt"]
            assert shop.ran == [("send_receipt", 1)]

        def test_and_only_what_each_policy_allowed_ran():
            assert shop.ran == [("send_receipt", 1), ("charge", 2)]
    ''')
    run(shop).assert_outcomes(passed=4)


def test_a_failing_test_discards_its_effects(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_plugged_fails='''
        import airlock
        import pytest
        import shop

        @pytest.mark.airlock(policy=airlock.AllowAll())
        def test_fails():
            shop.checkout(3)
            assert False, "boom"

        def test_nothing_ran():
            assert shop.ran == []
    ''')
    result = run(shop)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: boom*"])


def test_forbid_fails_a_test_that_enqueues(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_plugged_forbid='''
        import airlock
        import pytest
        import shop

        @pytest.mark.airlock(forbid=True)
        def test_pure():
            assert 1 + 1 == 2

        @pytest.mark.airlock(forbid=True)
        def test_direct_enqueue():
            airlock.enqueue(shop.charge, 4)

        @pytest.mark.airlock(forbid=True)
        def test_enqueue_in_a_scope_of_its_own():
            shop.checkout(5)

        def test_nothing_ran():
            assert shop.ran == []
    ''')
    result = run(shop)
    result.assert_outcomes(passed=2, failed=2)
    output = result.stdout.str()
    assert ">       airlock.enqueue(shop.charge, 4)" in output  # fails at the call site
    assert "airlock.PolicyViolation: charge(4) was enqueued under AssertNoEffects()" in output
    assert ("the test enqueued 2 effect(s) under @pytest.mark.airlock(forbid=True): charge(5), "
            "send_receipt(5)") in output


def test_drop_all_option_gives_every_test_a_dropping_scope(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_plugged_suite='''
        import airlock
        import pytest
        import shop

        def test_enqueues_without_opening_a_scope():
            airlock.enqueue(shop.charge, 6)
            shop.checkout(6)

        @pytest.mark.airlock(policy=airlock.AllowAll())
        def test_marked_keeps_its_policy():
            shop.checkout(7)

        def test_only_the_marked_test_ran_anything():
            assert shop.ran == [("charge", 7), ("send_receipt", 7)]
    ''')
    run(shop, "--airlock-drop-all").assert_outcomes(passed=3)
    without = run(shop)
    without.assert_outcomes(passed=2, failed=1)  # the one that enqueues without a scope
    without.stdout.fnmatch_lines(["*NoScopeError*"])


def test_configuration_changes_are_undone_after_each_test(shop: pytest.Pytester) -> None:
    shop.makeconftest('''
        import airlock
        SUITE_EXECUTOR = []
        airlock.configure(executor=SUITE_EXECUTOR.append)  # the suite's own setting stays
    ''')
    shop.makepyfile(test_plugged_config='''
        import airlock
        import conftest
        import pytest

        @pytest.fixture
        def quiet():
            airlock.configure(scope_kwargs={"errors": "continue"})

        def test_changes_the_configuration(quiet):
            airlock.configure(policy=airlock.DropAll())

        def test_sees_the_suite_configuration():
            config = airlock.get_configuration()
            assert config["policy"] is None
            assert config["scope_kwargs"] == {}
            assert config["executor"] == conftest.SUITE_EXECUTOR.append

        class TestUnderAModuleFixture:
            @pytest.fixture(scope="class", autouse=True)
            def offline_policy(self):
                airlock.configure(policy=airlock.BlockTasks({"charge"}))

            def test_first_sees_it(self):
                assert repr(airlock.get_configuration()["policy"]).startswith("BlockTasks")

            def test_second_still_sees_it(self):
                assert repr(airlock.get_configuration()["policy"]).startswith("BlockTasks")
    ''')
    run(shop).assert_outcomes(passed=4)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("airlock(polcy=airlock.DropAll())",
         "@pytest.mark.airlock takes only the keyword arguments policy= and forbid=, got "
         "['polcy']"),
        ("airlock(airlock.DropAll())", "takes only the keyword arguments policy= and forbid="),
        ("airlock(policy=airlock.DropAll)",
         "@pytest.mark.airlock(policy=...): policy must be a policy object, got the class "
         "DropAll; instantiate it: policy=DropAll()"),
        ("airlock(forbid=True, policy=airlock.DropAll())",
         "@pytest.mark.airlock: give policy= or forbid=True, not both"),
    ],
)
def test_a_malformed_marker_is_an_error_saying_what_to_write(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    pytester.makepyfile(test_plugged_bad=f'''
        import airlock
        import pytest

        @pytest.mark.{marker}
        def test_x():
            pass
    ''')
    result = run(pytester)
    result.assert_outcomes(errors=1)
    assert message in result.stdout.str()


def test_async_tests_run_inside_the_test_scope(
    shop: pytest.Pytester, require_imports: Callable[[Iterable[str]], None]
) -> None:
    require_imports(["pytest_asyncio"])
    shop.makepyfile(test_plugged_async='''
        import asyncio
        import shop

        async def test_coroutine(airlock_recorder):
            await asyncio.sleep(0)
            shop.checkout(9)
            assert airlock_recorder.names() == ["charge", "send_receipt"]
    ''')
    result = shop.runpytest(*QUIET, "-o", "asyncio_mode=auto",
                            "-o", "asyncio_default_fixture_loop_scope=function")
    result.assert_outcomes(passed=1)


# -- the plugin used by this project's own tests ------------------------------------------------


def effect(log: list[str], tag: str) -> None:
    log.append(tag)


def test_recorder_fixture_in_this_suite(airlock_recorder: EnqueueRecorder) -> None:
    log: list[str] = []
    with airlock.scope():
        airlock.enqueue(effect, log, "inner")
    airlock.enqueue(effect, log, "outer")
    assert airlock_recorder.names() == ["effect", "effect"]
    assert [r.args[1] for r in airlock_recorder] == ["inner", "outer"]
    assert log == []


@pytest.mark.airlock(forbid=True)
def test_reading_the_configuration_enqueues_nothing() -> None:
    assert airlock.get_configuration()["scope_kwargs"] == {}
