"""Settings for the integration tests' Django project (applied with settings.configure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def make_settings(db_path: Path) -> dict[str, Any]:
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
        ],
        "MIDDLEWARE": ["airlock.integrations.django.AirlockMiddleware"],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db_path)}},
        "Q_CLUSTER": {
            "name": "airlock-tests", "sync": True, "orm": "default", "timeout": 60, "retry": 120,
        },
        "LOGGING_CONFIG": None,
    }
