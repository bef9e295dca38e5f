"""Optional app: list ``"airlock.integrations.django"`` in INSTALLED_APPS to check settings."""

from __future__ import annotations

from django.apps import AppConfig  # type: ignore[import-untyped]

from ._settings import validate_settings


class AirlockConfig(AppConfig):  # type: ignore[misc]
    """Validates ``settings.AIRLOCK`` during ``django.setup()``."""

    name = "airlock.integrations.django"
    label = "airlock"
    verbose_name = "airlock"

    def ready(self) -> None:
        validate_settings()
