"""Optional app: list ``"airlock.integrations.django"`` in INSTALLED_APPS to check settings."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]

from ._settings import validate_settings


class AirlockConfig(AppConfig):  # type: ignore[misc]
    """Validates ``settings.AIRLOCK`` during ``django.setup()``."""

    name = "airlock.integrations.django"
    label = "airlock_django"  # airlock-py's label: apps.get_app_config("airlock_django")
    verbose_name = "airlock"

    def ready(self) -> None:
        validate_settings()
