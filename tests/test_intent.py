"""Intent: data about one effect — name, str/repr, dispatch options, lazy building."""

from __future__ import annotations

import functools

import airlock
from airlock import Intent
from airlock._intent import task_name


def send_email(user_id: int, to: str = "") -> None:
    """A stand-in effect."""


class _Registered:
    name = "app.tasks.registered"

    def __call__(self) -> None:
        """A Celery-like task object with a registered name."""


def test_str_renders_a_call() -> None:
    assert str(Intent(send_email, (42,), {"to": "a@b"})) == "send_email(42, to='a@b')"


def test_str_shortens_long_arguments() -> None:
    text = str(Intent(send_email, ("x" * 200,)))
    assert text.startswith("send_email('xxx") and text.endswith("...)")
    assert len(text) < 80


def test_repr_shows_options_key_and_origin() -> None:
    intent = Intent(send_email, (1,), dispatch_options={"queue": "q"}, key="k", origin="view")
    assert repr(intent) == (
        "<Intent send_email(1) dispatch_options={'queue': 'q'} key='k' origin='view'>"
    )


def test_name_defaults_to_qualname_and_can_be_overridden() -> None:
    assert Intent(send_email).name == "send_email"
    assert Intent(send_email, name="mail").name == "mail"


def test_task_name_prefers_registered_name_then_qualname_then_type() -> None:
    assert task_name(_Registered()) == "app.tasks.registered"
    assert task_name(send_email) == "send_email"
    partial = functools.partial(send_email, 1)
    assert task_name(partial) == "partial"


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
