"""The Starlette application: GraphQL at /graphql (GraphiQL and introspection in development only),
/health, /metrics, /export; allowed hosts, the request guard (api/http_guard.py) in front."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.context import Context
from api.errors import code_of
from api.http_guard import RequestGuard, refusal
from api.metrics import Metrics, MetricsMiddleware
from api.research import export_endpoint
from api.schema import make_schema
from kg.config import Settings
from kg.db import Graph
from kg.schema import apply_schema


class KgGraphQL(GraphQL[Context, None]):
    def __init__(self, graph: Graph, metrics: Metrics) -> None:
        production = graph.settings.production
        super().__init__(
            make_schema(graph.settings),
            graphql_ide=None if production else "graphiql",
            multipart_uploads_enabled=True,
        )
        self.graph = graph
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's own refusals (unsupported content type, unparsable multipart, missing file
        parts) as coded JSON instead of plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response: Response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as err:
            code = "NOT_FOUND" if err.status_code == 404 else "BAD_REQUEST"
            self.metrics.http_errors.labels(code).inc()
            response = refusal(err.status_code, code, err.reason)
        await response(scope, receive, send)

    async def parse_http_body(self, request: Any) -> Any:
        """A multipart ``operations`` field that is not one operation object is a 400, not a crash."""
        try:
            data = await super().parse_http_body(request)
        except (AttributeError, TypeError) as err:
            raise HTTPException(400, "the operations must be one JSON object {query, variables}") from err
        if isinstance(data, list):
            raise HTTPException(400, "send one operation per request")
        return data

    async def get_context(self, request: Any, response: Any = None) -> Context:
        return Context(self.graph)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error a response carries (masked ones included) counts under its code."""
        for error in result.errors or ():
            self.metrics.graphql_errors.labels(code_of(error)).inc()
        return await super().process_result(request, result)


def create_app(settings: Settings | None = None, *, apply_schema_on_start: bool = True) -> Starlette:
    graph = Graph(settings or Settings.from_env())

    async def health(request: Request) -> Response:
        """Up or down, never where: no URI, host or port of the database (anonymous may call it)."""
        up = await anyio.to_thread.run_sync(graph.is_reachable)
        body = {"status": "ok" if up else "degraded", "neo4j": "up" if up else "down"}
        return JSONResponse(body, status_code=200 if up else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if apply_schema_on_start and await anyio.to_thread.run_sync(graph.is_reachable):
            await anyio.to_thread.run_sync(apply_schema, graph)
        yield
        graph.close()

    metrics = Metrics()
    graphql = KgGraphQL(graph, metrics)
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/metrics", metrics.endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/export", export_endpoint),
        ],
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(graph.settings.allowed_hosts)),
            Middleware(RequestGuard, settings=graph.settings, metrics=metrics),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.graph = graph
    return app
