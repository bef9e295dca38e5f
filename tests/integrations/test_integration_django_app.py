"""The Django app (``"airlock.integrations.django"`` in INSTALLED_APPS) and the scope class it
builds per request, as airlock-py names and builds them."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("django_project")


def test_the_app_label_is_airlock_pys() -> None:
    from django.apps import apps

    config = apps.get_app_config("airlock_django")
    assert config.name == "airlock.integrations.django"
    with pytest.raises(LookupError):
        apps.get_app_config("airlock")  # the label before 0.1.x


def test_the_app_validates_settings_when_ready() -> None:
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    with override_settings(AIRLOCK={"NOPE": 1}), pytest.raises(ImproperlyConfigured):
        apps.get_app_config("airlock_django").ready()


def keyword_scope_class() -> type[Any]:
    """A SCOPE class in airlock-py's documented pattern: keyword arguments only."""
    from airlock.integrations.django import DjangoScope

    class TaggedScope(DjangoScope):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            self.tag = kwargs.pop("tag", None)
            super().__init__(**kwargs)

    return TaggedScope


def test_a_keyword_only_scope_class_gets_its_own_scope_kwargs(effect_log: Any) -> None:
    from django.test import Client, override_settings

    scope_cls = keyword_scope_class()
    airlock_settings = {"SCOPE": scope_cls, "SCOPE_KWARGS": {"tag": "api", "errors": "continue"}}
    with override_settings(AIRLOCK=airlock_settings):
        response = Client().get("/scope-info/")
    assert response.content == b"TaggedScope current=True errors=continue"


def test_scope_kwargs_that_do_not_fit_the_scope_class_name_it() -> None:
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    from airlock.integrations.django import validate_settings

    with override_settings(AIRLOCK={"SCOPE_KWARGS": {"tag": "api"}}), pytest.raises(
        ImproperlyConfigured, match=r"SCOPE_KWARGS.*does not fit DjangoScope.*'tag'"
    ):
        validate_settings()
