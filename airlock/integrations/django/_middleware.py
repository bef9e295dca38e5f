"""AirlockMiddleware: a scope per request; effects escape after the response and the commit.

Each request runs in a scope: ``enter()`` before the view, ``exit()`` after it, then
``flush()`` if ``should_flush(request, response)`` (default: the view did not raise and the
status is below 400) and the scope's own ``should_flush(error)`` agree, else ``discard()``.
A view that raised is seen through ``process_exception``, since Django turns the exception
into a 500 response before it reaches this middleware. An effect that fails during the flush
fails it as in any scope: under ``errors="raise"`` (the default) its error leaves the
middleware (Django answers 500; the committed data stays), under ``"continue"`` it is logged.
The scope is ``request.airlock_scope``. Sync and async views.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase  # type: ignore[import-untyped]

from ..._scope import Scope
from ._scope import DjangoScope
from ._settings import validate_settings

__all__ = ["AirlockMiddleware"]

_ERROR = "_airlock_error"


class AirlockMiddleware:
    """Opens ``settings.AIRLOCK``'s scope (default ``DjangoScope``) around each request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.settings = validate_settings()
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def should_flush(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """Flush on a 1xx-3xx response from a view that did not raise; discard otherwise."""
        return getattr(request, _ERROR, None) is None and response.status_code < 400

    def _open(self, request: HttpRequest) -> Scope:
        scope = self.settings.new_scope()
        request.airlock_scope = scope
        return scope.enter()

    def _finish(self, scope: Scope, request: HttpRequest, response: HttpResponseBase) -> None:
        scope.exit()
        try:  # the scope's own should_flush(error) (a SCOPE subclass may override it) agrees
            flush = self.should_flush(request, response) and scope.should_flush(
                getattr(request, _ERROR, None)
            )
        except BaseException:
            scope.discard()  # a failing decision releases nothing, and leaves nothing waiting
            raise
        try:  # a failing effect under errors="raise" fails the request, as any error does
            if flush:
                scope.flush()
            else:
                scope.discard()
        finally:
            if isinstance(scope, DjangoScope):
                scope.settle()

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        scope = self._open(request)
        try:
            response = self.get_response(request)
        except BaseException:
            scope.exit()
            scope.discard()
            raise
        self._finish(scope, request, response)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        scope = self._open(request)
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        try:
            response = await get_response(request)
        except BaseException:
            scope.exit()
            scope.discard()
            raise
        self._finish(scope, request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Remember that the view raised, so the scope discards instead of flushing."""
        setattr(request, _ERROR, exception)
