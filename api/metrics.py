"""Prometheus metrics: requests and latency per route, GraphQL errors and HTTP refusals by code, process memory,
the kept patient answers (hits, misses).

Served as Prometheus text format at /metrics. A registry per app keeps tests independent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.answer_cache import AnswerCache


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.requests = Counter(
            "kg_http_requests_total", "HTTP requests", ["path", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "kg_http_request_seconds",
            "HTTP request latency",
            ["path"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.graphql_errors = Counter(
            "kg_graphql_errors_total", "GraphQL errors by code", ["code"], registry=self.registry
        )
        self.http_errors = Counter(
            "kg_http_errors_total",
            "Requests refused before GraphQL (api/http_guard.py) by code",
            ["code"],
            registry=self.registry,
        )

    def watch_answer_cache(self, cache: AnswerCache) -> None:
        """The kept answers' counts (kg/answer_cache.py) as counters, read when /metrics is asked."""
        self.registry.register(_AnswerCacheCollector(cache))

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class _AnswerCacheCollector(Collector):
    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        counts = self.cache.counts
        for name, value, text in (
            ("hits", counts.hits, "patient answers given from memory (nothing committed since they were read)"),
            ("misses", counts.misses, "patient answers read from the graph"),
            ("not_kept", counts.not_kept, "answers read while the database committed something: given, not kept"),
        ):
            yield CounterMetricFamily(f"kg_answer_cache_{name}", text, value=value)
        yield GaugeMetricFamily("kg_answer_cache_entries", "patient answers kept", value=len(self.cache))


class MetricsMiddleware:
    """Pure ASGI middleware (no body buffering) that times every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in ("/graphql", "/health", "/metrics") else "other"
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.latency.labels(path).observe(time.perf_counter() - started)
            self.metrics.requests.labels(path, scope["method"], str(status["code"])).inc()
