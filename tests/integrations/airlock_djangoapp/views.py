from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

import airlock

from . import effects
from .effects import record, record_committed
from .models import Order


def ok(request: HttpRequest) -> HttpResponse:
    Order.objects.create(name="ok")
    airlock.enqueue(record_committed, "ok")
    airlock.enqueue(record, "ok")
    return HttpResponse("OK")


def boom(request: HttpRequest) -> HttpResponse:
    airlock.enqueue(record, "boom")
    raise ValueError("view failed")


def partial_rollback(request: HttpRequest) -> HttpResponse:
    """An atomic block rolled back by set_rollback; effects outside it still escape."""
    with transaction.atomic():
        Order.objects.create(name="rolled-back")
        airlock.enqueue(record, "inside-rolled-back")
        transaction.set_rollback(True)
    airlock.enqueue(record, "outside")
    return HttpResponse("OK")


def enqueue_in_a_rolled_back_savepoint() -> None:
    """Enqueue "savepoint" in a nested atomic block that rolls back (its exception caught)."""
    try:
        with transaction.atomic():
            airlock.enqueue(record, "savepoint")
            raise LookupError("inner failure")
    except LookupError:
        pass


def nested(request: HttpRequest) -> HttpResponse:
    """Nested atomic: the savepoint rolls back (exception caught), the outer block commits."""
    with transaction.atomic():
        Order.objects.create(name="outer")
        airlock.enqueue(record, "outer-block")
        enqueue_in_a_rolled_back_savepoint()
    return HttpResponse("OK")


def set_rollback(request: HttpRequest) -> HttpResponse:
    """Under ATOMIC_REQUESTS: mark the request's transaction for rollback, answer 200."""
    Order.objects.create(name="set-rollback")
    airlock.enqueue(record, "set-rollback")
    transaction.set_rollback(True)
    return HttpResponse("OK")


def nested_scope(request: HttpRequest) -> HttpResponse:
    """A library's own plain scope inside the request scope is captured by it."""
    with transaction.atomic():
        with airlock.scope():
            airlock.enqueue(record, "library")
        transaction.set_rollback(True)
    with airlock.scope():
        airlock.enqueue(record, "library-kept")
    return HttpResponse("OK")


def charge(order: str, declined: bool) -> bool:
    """Library code with a scope of its own around a payment in an atomic block (a savepoint
    under ATOMIC_REQUESTS), whose failure it handles itself: its scope ends after the
    rollback."""
    with airlock.scope():
        try:
            with transaction.atomic():
                Order.objects.create(name=order)
                airlock.enqueue(record, f"receipt-{order}")
                if declined:
                    raise LookupError("card declined")
        except LookupError:
            return False
    return True


def library_scopes(request: HttpRequest) -> HttpResponse:
    """Library scopes that end outside the atomic blocks their effects were enqueued in: a
    declined payment (rolled back), a paid one (committed), and a committed block whose
    nested savepoint rolled back."""
    charge("declined", declined=True)
    charge("paid", declined=False)
    with airlock.scope(), transaction.atomic():
        airlock.enqueue(record, "outer-block")
        enqueue_in_a_rolled_back_savepoint()
    return HttpResponse("OK")


async def async_ok(request: HttpRequest) -> HttpResponse:
    airlock.enqueue(record, "async")
    return HttpResponse("OK")


async def async_boom(request: HttpRequest) -> HttpResponse:
    airlock.enqueue(record, "async-boom")
    raise ValueError("async view failed")


def enqueue_tasks(request: HttpRequest) -> HttpResponse:
    """Create an order and enqueue each of ``effects.TASKS`` with its name."""
    Order.objects.create(name="tasks")
    for task in effects.TASKS:
        airlock.enqueue(task, "tasks")
    return HttpResponse("OK")


def status(request: HttpRequest, code: int) -> HttpResponse:
    """Enqueue an effect, then answer with status ``code`` without raising (a 400, a 302...)."""
    airlock.enqueue(record, f"status-{code}")
    if 300 <= code < 400:
        return HttpResponseRedirect("/ok/", status=code)
    return HttpResponse(f"status {code}", status=code)


def scope_info(request: HttpRequest) -> HttpResponse:
    """Report the request's scope: its class and whether it is the current one."""
    scope = request.airlock_scope  # type: ignore[attr-defined]
    current = airlock.get_current_scope() is scope
    return HttpResponse(f"{type(scope).__name__} current={current} errors={scope.errors}")
