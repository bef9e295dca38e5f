"""AirlockMiddleware: a scope per request; effects escape after the response and the commit.

The scope discards when the view raises (seen through ``process_exception``, since Django turns
the exception into a 500 response before it reaches this middleware). Sync and async views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase  # type: ignore[import-untyped]

from ..._scope import Scope
from ._scope import DjangoScope
from ._settings import load_settings

__all__ = ["AirlockMiddleware"]

_ERROR = "_airlock_error"


def _finish(scope: Scope, request: HttpRequest) -> None:
    scope.exit(getattr(request, _ERROR, None))
    if isinstance(scope, DjangoScope):
        scope.settle()


class AirlockMiddleware:
    """Opens ``settings.AIRLOCK``'s scope (default ``DjangoScope``) around each request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.settings = load_settings()
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        scope = self.settings.new_scope().enter()
        try:
            response = self.get_response(request)
        except BaseException as exc:
            scope.exit(exc)
            raise
        _finish(scope, request)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        scope = self.settings.new_scope().enter()
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        try:
            response = await get_response(request)
        except BaseException as exc:
            scope.exit(exc)
            raise
        _finish(scope, request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Remember that the view raised, so the scope discards instead of flushing."""
        setattr(request, _ERROR, exception)
