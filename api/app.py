"""The Starlette application: GraphQL (with an offline GraphiQL) at /graphql, the explorer at /explore, /health."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api import browser
from api.context import Context
from api.errors import code_of
from api.metrics import Metrics, MetricsMiddleware
from api.research import export_endpoint
from api.schema import schema
from kg.config import Settings
from kg.db import Graph
from kg.schema import apply_schema


class KgGraphQL(GraphQL[Context, None]):
    def __init__(self, graph: Graph, metrics: Metrics) -> None:
        super().__init__(schema, graphql_ide="graphiql", multipart_uploads_enabled=True)
        self.graph = graph
        self.metrics = metrics

    async def get_context(self, request: Any, response: Any = None) -> Context:
        return Context(self.graph)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error a response carries (masked ones included) counts under its code."""
        for error in result.errors or ():
            self.metrics.graphql_errors.labels(code_of(error)).inc()
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from the app's own assets (strawberry's page loads them from a CDN), with the
        clinical questions preloaded (api.browser)."""
        return HTMLResponse(browser.graphiql_html())


def create_app(settings: Settings | None = None, *, apply_schema_on_start: bool = True) -> Starlette:
    graph = Graph(settings or Settings.from_env())

    async def health(request: Request) -> Response:
        up = await anyio.to_thread.run_sync(graph.is_reachable)
        body = {"status": "ok" if up else "degraded", "neo4j": "up" if up else "down", "uri": graph.settings.bolt_uri}
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
            Route("/explore", browser.explore_page),
            Mount("/static/app", app=browser.app_files(), name="app-static"),
            Mount("/static/vendor", app=browser.vendor_files(), name="vendor"),
        ],
        middleware=[Middleware(MetricsMiddleware, metrics=metrics)],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.graph = graph
    return app
