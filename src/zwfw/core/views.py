"""Operational endpoints: liveness, readiness and metrics."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from zwfw.core import metrics


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers a query and migrations have been applied."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # any database failure means "not ready", never a 500
        checks["database"] = f"error: {type(exc).__name__}"
    if checks["database"] == "ok":
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        checks["migrations"] = "ok" if not plan else f"pending: {len(plan)}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)


def home(request: HttpRequest) -> HttpResponse:
    """The portal's home page: search, themes for persons and companies, life events,
    popular items, news (counts and lists cached a minute: see zwfw.portal)."""
    from zwfw.portal.home import popular_items
    from zwfw.portal.views import browse_counts, life_events

    return render(
        request,
        "core/home.html",
        {
            "person_themes": [t for t in browse_counts("theme_person") if t.count],
            "legal_themes": [t for t in browse_counts("theme_legal") if t.count],
            "life_events": life_events(),
            "popular": popular_items(),
            # reversed once: the page links some fifty searches
            "search_url": reverse("portal:search"),
        },
    )


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        from zwfw.api.errors import error_response

        return error_response(
            "not_found", "请求的地址不存在。", {"path": request.path}, "No such path.", status=404
        )
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    from zwfw.api.errors import error_response

    if _wants_json(request):
        return error_response(
            "server.error", "服务器内部错误，请稍后再试。", None, "Internal error.", status=500
        )
    return HttpResponse(
        "<h1>服务器内部错误 / Internal error</h1>", status=500, content_type="text/html"
    )
