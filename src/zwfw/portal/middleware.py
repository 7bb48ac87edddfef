"""Content-Security-Policy for the pages (portal, identity, workbench, catalogue).

Pages load scripts and styles from the site only: no inline ``<script>``, no ``<style>``
blocks, no ``style=""`` attributes (``zwfw/core/static/core/site.css`` has the classes), no
framing. The API (its Swagger page loads from a CDN) and Django's admin keep their own
rules; a response that already carries a policy keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix

POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
EXEMPT = ("api/", "admin/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" in response:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        prefix = get_script_prefix()
        path = request.path[len(prefix) :] if request.path.startswith(prefix) else request.path
        if path.startswith(EXEMPT):
            return response
        response["Content-Security-Policy"] = POLICY
        return response
