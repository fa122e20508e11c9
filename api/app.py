"""The Starlette application: GraphQL (with GraphiQL) at /graphql, /health."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.context import Context
from api.errors import code_of
from api.metrics import Metrics, MetricsMiddleware
from api.research import export_endpoint
from api.schema import schema
from kg.config import Settings
from kg.db import Graph
from kg.schema import SchemaOnFirstConnection


class KgGraphQL(GraphQL[Context, None]):
    def __init__(self, graph: Graph, metrics: Metrics, ready: SchemaOnFirstConnection | None) -> None:
        super().__init__(schema, graphql_ide="graphiql", multipart_uploads_enabled=True)
        self.graph = graph
        self.metrics = metrics
        self.ready = ready

    async def get_context(self, request: Any, response: Any = None) -> Context:
        return Context(self.graph, self.ready.ensure if self.ready else None)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error a response carries (masked ones included) counts under its code."""
        for error in result.errors or ():
            self.metrics.graphql_errors.labels(code_of(error)).inc()
        return await super().process_result(request, result)


def create_app(settings: Settings | None = None, *, apply_schema_on_start: bool = True) -> Starlette:
    """The service starts whether or not Neo4j is reachable: /health says down (503), queries answer
    UNAVAILABLE, and the first request that finds Neo4j back applies the schema and is answered."""
    graph = Graph(settings or Settings.from_env())
    ready = SchemaOnFirstConnection(graph) if apply_schema_on_start else None

    async def health(request: Request) -> Response:
        up = await anyio.to_thread.run_sync(graph.is_reachable)
        body = {"status": "ok" if up else "degraded", "neo4j": "up" if up else "down", "uri": graph.settings.bolt_uri}
        return JSONResponse(body, status_code=200 if up else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if ready is not None and await anyio.to_thread.run_sync(graph.is_reachable):
            await anyio.to_thread.run_sync(ready.ensure)
        yield
        graph.close()

    metrics = Metrics()
    graphql = KgGraphQL(graph, metrics, ready)
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/metrics", metrics.endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/export", export_endpoint),
        ],
        middleware=[Middleware(MetricsMiddleware, metrics=metrics)],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.graph = graph
    app.state.ready = ready
    return app
