"""Prometheus metrics of this process (exposed at /metrics)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "zwfw_http_requests_total",
    "HTTP requests served, by method, route and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "zwfw_http_request_seconds",
    "Time to serve an HTTP request, by route.",
    ["route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
AUDIT_RECORDS = Counter("zwfw_audit_records_total", "Audit records appended.", registry=REGISTRY)
NOTIFICATIONS = Counter(
    "zwfw_notifications_total",
    "Outbox deliveries, by channel and outcome.",
    ["channel", "outcome"],
    registry=REGISTRY,
)


def observe_request(method: str, route: str, status: int, started: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
