"""Intent: data about one effect — name, str/repr, dispatch options, lazy building."""

from __future__ import annotations

import copy
import functools
import pickle

import pytest

import airlock
from airlock import Intent
from airlock._intent import NO_KWARGS, task_name


def send_email(user_id: int, to: str = "") -> None:
    """A stand-in effect."""


class _Registered:
    name = "app.tasks.registered"

    def __call__(self) -> None:
        """A Celery-like task object with a registered name."""


class _Actor:
    actor_name = "charge_card"

    def __call__(self) -> None:
        """A Dramatiq-like actor: its registered name is ``actor_name``."""


class _Mailer:
    def send(self) -> None:
        """A bound method."""

    def __call__(self) -> None:
        """A callable instance."""


def test_str_renders_a_call() -> None:
    assert str(Intent(send_email, (42,), {"to": "a@b"})) == "send_email(42, to='a@b')"


def test_str_shortens_long_arguments() -> None:
    text = str(Intent(send_email, ("x" * 200,)))
    assert text.startswith("send_email('xxx") and text.endswith("...)")
    assert len(text) < 80


def test_repr_shows_the_args_tuple_as_airlock_py_does() -> None:
    assert repr(Intent(send_email, (1,), {"to": "a"})) == (
        "Intent('send_email', args=(1,), kwargs={'to': 'a'})"
    )


def test_repr_shows_options_key_and_origin() -> None:
    intent = Intent(send_email, (1,), dispatch_options={"queue": "q"}, key="k", origin="view")
    assert repr(intent) == (
        "Intent('send_email', args=(1,), kwargs={}, dispatch_options={'queue': 'q'}, "
        "key='k', origin='view')"
    )


def test_name_defaults_to_the_task_name_and_can_be_overridden() -> None:
    assert Intent(send_email).name == "send_email"
    assert Intent(send_email, name="mail").name == "mail"
    assert Intent(send_email, name="a.b.c").name == "a.b.c"  # a given name is kept as given


def test_task_name_is_the_last_part_of_a_registered_name_else_dunder_name() -> None:
    assert task_name(_Registered()) == "registered"
    assert task_name(_Actor()) == "charge_card"
    assert task_name(send_email) == "send_email"
    assert task_name(_Mailer().send) == "send"  # __name__, not the "_Mailer.send" qualname
    assert task_name(functools.partial(send_email, 1)) == "send_email"
    assert task_name(_Mailer()) == "_Mailer"


def test_qualified_name_keeps_the_registered_or_module_qualified_name() -> None:
    assert Intent(_Registered()).qualified_name == "app.tasks.registered"
    assert Intent(_Actor()).qualified_name == "charge_card"
    assert Intent(send_email).qualified_name == f"{__name__}.send_email"
    assert Intent(_Mailer().send).qualified_name == f"{__name__}._Mailer.send"
    assert Intent(_Mailer()).qualified_name == f"{__name__}._Mailer"
    assert Intent(send_email, name="mail").qualified_name == f"{__name__}.send_email"
    assert Intent([].append).qualified_name == "list.append"
    assert Intent(len).qualified_name == "builtins.len"


def test_intent_is_immutable() -> None:
    intent = Intent(send_email, (1,), {"to": "a"}, dispatch_options={"queue": "q"})
    for attribute in ("task", "args", "kwargs", "name", "origin", "key", "scope", "qualified_name"):
        with pytest.raises(AttributeError):
            setattr(intent, attribute, None)
    with pytest.raises(AttributeError, match="immutable"):
        intent.args = (2,)  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del intent.key
    with pytest.raises(AttributeError, match="immutable"):
        intent.color = "red"  # type: ignore[attr-defined]
    assert intent.args == (1,) and intent.dispatch_options == {"queue": "q"}


def test_intent_is_unhashable_and_compares_by_identity() -> None:
    intent = Intent(send_email, (1,), {"to": ["not", "hashable"]})
    with pytest.raises(TypeError, match="unhashable"):
        hash(intent)
    twin = Intent(send_email, (1,), {"to": ["not", "hashable"]})
    assert intent == intent and intent != twin


def test_intent_builds_by_keyword_and_stores_args_as_a_tuple() -> None:
    intent = Intent(task=send_email, args=[1, 2], kwargs={}, origin=None, dispatch_options=None)
    assert intent.task is send_email and intent.args == (1, 2) and type(intent.args) is tuple
    assert intent.kwargs == {} and intent.origin is None and intent.dispatch_options == {}
    assert type(intent) is Intent
    assert Intent(send_email).args == () and Intent(send_email).kwargs == {}


def test_a_pickled_intent_carries_its_own_data_not_its_scope() -> None:
    with airlock.scope() as s:
        for user_id in range(10_000):
            airlock.enqueue(send_email, user_id, _key=user_id, _origin="signup")
    intent = s.intents[0]
    data = pickle.dumps(intent)
    assert len(data) < 500  # the scope holds 10,000 intents
    twin = pickle.loads(data)
    assert (twin.task, twin.args, twin.key, twin.origin) == (send_email, (0,), 0, "signup")
    assert twin.scope is None and twin.local_policies == ()


def test_an_intent_from_a_tick_pickles() -> None:
    tick = airlock.tick_scope()
    with tick, airlock.policy(airlock.AllowAll()):
        airlock.enqueue(send_email, 7, _dispatch_options={"queue": "mail"})
    intent = tick.intents[0]
    assert intent.scope is tick
    twin = pickle.loads(pickle.dumps(intent))
    assert (twin.args, twin.dispatch_options, twin.scope) == ((7,), {"queue": "mail"}, None)
    tick.close()


def test_a_copy_is_a_twin_with_the_same_provenance() -> None:
    with airlock.scope() as s:
        airlock.enqueue(send_email, 1, _name="mail")
    intent = s.intents[0]
    twin = copy.copy(intent)
    assert twin is not intent and twin.scope is s and twin.name == "mail"


def test_intent_copies_and_pickles_as_equal_data() -> None:
    intent = Intent(send_email, (1,), {"to": "a"}, "mail", {"queue": "q"}, "signup", "k")
    for twin in (copy.copy(intent), pickle.loads(pickle.dumps(intent))):
        assert type(twin) is Intent and twin is not intent
        assert (twin.task, twin.args, twin.kwargs) == (send_email, (1,), {"to": "a"})
        assert twin.name == "mail"
        assert (twin.dispatch_options, twin.origin, twin.key) == ({"queue": "q"}, "signup", "k")


def test_dispatch_options_default_to_an_empty_dict_that_sticks() -> None:
    intent = Intent(send_email)
    options = intent.dispatch_options
    assert options == {}
    options["x"] = 1
    assert intent.dispatch_options == {"x": 1}


def test_enqueue_with_every_option_builds_the_intent_as_given() -> None:
    with airlock.scope() as s:
        airlock.enqueue(
            send_email, 7, to="z", _name="mail", _origin="signup",
            _dispatch_options={"priority": 9}, _key=("mail", 7),
        )
        (intent,) = s.intents
    assert (intent.task, intent.args, intent.kwargs) == (send_email, (7,), {"to": "z"})
    assert intent.name == "mail" and intent.origin == "signup"
    assert intent.dispatch_options == {"priority": 9} and intent.key == ("mail", 7)
    assert intent.scope is s and intent.local_policies == ()


def test_plain_enqueue_materializes_once_with_stable_identity() -> None:
    with airlock.scope() as s:
        airlock.enqueue(send_email, 1)
        first = s.intents
        second = s.intents
        assert first[0] is second[0]
        assert first[0].scope is s


def test_passes_local_policies_asks_every_policy() -> None:
    intent = Intent(send_email, local_policies=(airlock.AllowAll(), airlock.DropAll()))
    assert intent.passes_local_policies() is False
    assert Intent(send_email, local_policies=(airlock.AllowAll(),)).passes_local_policies()


def test_an_intents_repr_never_raises_and_stays_short() -> None:
    """Error messages and logs show intents: an argument whose repr raises, or a huge one,
    must not replace the error being reported or flood it."""

    class Unprintable:
        def __repr__(self) -> str:
            raise RuntimeError("dictionary changed size during iteration")

    def task(*args: object) -> None: ...

    shown = repr(airlock.Intent(task, (Unprintable(),)))
    assert "args=<tuple object>" in shown  # the tuple's repr raised: its type stands in
    assert "Unprintable object" in str(airlock.Intent(task, (Unprintable(),)))
    assert len(repr(airlock.Intent(task, (list(range(100_000)),)))) < 1100


def test_an_intent_never_holds_the_records_shared_empty_kwargs() -> None:
    named = Intent(print, (), NO_KWARGS)
    assert named.kwargs == {} and named.kwargs is not NO_KWARGS
    own: dict[str, object] = {}
    assert Intent(print, (), own).kwargs is own  # any other dict is the intent's as given
