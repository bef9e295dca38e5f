"""Settings for the integration tests' Django project (applied with settings.configure)."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any


def tasks_settings() -> tuple[list[str], dict[str, Any]]:
    """Apps and ``TASKS`` for Django's Tasks framework: Django 6's own, else the backport;
    a queued ``db`` backend when django-tasks-db is installed. Empty when neither is."""
    if find_spec("django.tasks") is not None:
        apps, immediate = [], "django.tasks.backends.immediate.ImmediateBackend"
    elif find_spec("django_tasks") is not None:
        apps, immediate = ["django_tasks"], "django_tasks.backends.immediate.ImmediateBackend"
    else:
        return [], {}
    tasks: dict[str, Any] = {"default": {"BACKEND": immediate}}
    if find_spec("django_tasks_db") is not None:
        apps.append("django_tasks_db")
        tasks["db"] = {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "mail"]}
    return apps, tasks


def make_settings(db_path: Path) -> dict[str, Any]:
    task_apps, tasks = tasks_settings()
    return {
        "DEBUG": False,
        "SECRET_KEY": "airlock-tests",
        "ALLOWED_HOSTS": ["testserver"],
        "ROOT_URLCONF": "airlock_djangoapp.urls",
        "USE_TZ": True,
        "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
        "INSTALLED_APPS": [
            "django.contrib.contenttypes",
            "django_q",
            "airlock.integrations.django",
            "airlock_djangoapp",
            *task_apps,
        ],
        "TASKS": tasks,
        "MIDDLEWARE": ["airlock.integrations.django.AirlockMiddleware"],
        "DATABASES": {
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db_path)},
            # a second database, for effects enqueued in its transactions (no tables)
            "other": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(db_path.with_name("other.sqlite3")),
            },
        },
        "Q_CLUSTER": {
            "name": "airlock-tests", "sync": True, "orm": "default", "timeout": 60, "retry": 120,
        },
        "LOGGING_CONFIG": None,
    }
