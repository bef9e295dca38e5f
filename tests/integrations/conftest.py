"""Fixtures for the integration tests: a configured Django project and a private Redis server.

Django is configured only when a test asks for ``django_project``, so the rest of the suite
runs without Django settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # celery's redis result backend calls redis-py's deprecated setex; not ours to fix
    config.addinivalue_line(
        "filterwarnings", "ignore:Call to deprecated setex:DeprecationWarning"
    )


@pytest.fixture(scope="session")
def django_project(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Configure Django with the test app and a fresh SQLite file; create the tables."""
    import django
    from airlock_djangoapp.settings import make_settings
    from django.conf import settings
    from django.core.management import call_command

    if not settings.configured:
        settings.configure(**make_settings(tmp_path_factory.mktemp("django") / "db.sqlite3"))
        django.setup()
        call_command("migrate", run_syncdb=True, verbosity=0)


@pytest.fixture
def effect_log(django_project: None) -> Iterator[list[tuple[str, object]]]:
    """The test app's effect log, empty, with no orders in the database."""
    from airlock_djangoapp.effects import LOG
    from airlock_djangoapp.models import Order

    LOG.clear()
    Order.objects.all().delete()
    yield LOG
    LOG.clear()


@pytest.fixture(scope="module")
def memory_app() -> Iterator[Any]:
    """A Celery app on the in-memory broker, with a real worker thread consuming it.

    One per module: Celery's test worker stops through a process-wide flag
    (``celery.worker.state.should_terminate``), so a worker still running while another
    module's worker stops (the Redis one) may see it and stop too. (A precaution: one full run
    under heavy load had a later test here wait 10 s for a task that never ran; the cause was
    not pinned down.)"""
    from celery.contrib.testing.worker import start_worker
    from celery_app import make_app, stop_soon

    app = make_app("memory://", "cache+memory://")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=5) as worker:
        yield app
        stop_soon(app, worker)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis-server of our own on 127.0.0.1 (no persistence), stopped after the session."""
    from celery_app import redis_server

    with redis_server() as url:
        yield url
