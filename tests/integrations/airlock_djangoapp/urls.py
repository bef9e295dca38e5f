from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("ok/", views.ok),
    path("boom/", views.boom),
    path("partial-rollback/", views.partial_rollback),
    path("nested/", views.nested),
    path("set-rollback/", views.set_rollback),
    path("nested-scope/", views.nested_scope),
    path("library-scopes/", views.library_scopes),
    path("async-ok/", views.async_ok),
    path("async-boom/", views.async_boom),
    path("enqueue-tasks/", views.enqueue_tasks),
    path("status/<int:code>/", views.status),
    path("scope-info/", views.scope_info),
]
