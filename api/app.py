"""The Starlette application: GraphQL at /graphql (an offline GraphiQL and introspection in development
only), the explorer at /explore, /export, /health, /metrics, the patient documents; allowed hosts and
the request guard (api/http_guard.py) in front.

Access (api/auth.py): the AuthMiddleware puts the caller on ``request.state.identity`` before any
route runs (and before the request guard, whose rate limit keys on it); /health is open, GET /graphql
(the GraphiQL page), /explore and the static assets are open (they hold no data; the pages ask the API
with the caller's token) but every query field needs its permission, /export needs EXPLORE, /metrics is
for admins (READ_METRICS), a patient document needs that patient's read permission.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio.to_thread
import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api import browser
from api.auth import CHALLENGE, UNAUTHENTICATED, Access, AuthMiddleware, route_identity
from api.context import Context
from api.documents import ROUTES as DOCUMENT_ROUTES
from api.errors import code_of
from api.http_guard import RequestGuard, refusal
from api.metrics import Metrics, MetricsMiddleware
from api.research import export_endpoint
from api.schema import make_schema
from kg.access.roles import Identity
from kg.access.roles import Permission as P
from kg.access.settings import AuthSettings
from kg.answer_cache import AnswerCache
from kg.config import Settings
from kg.db import Graph
from kg.schema import SchemaOnFirstConnection


class KgGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        graph: Graph,
        metrics: Metrics,
        access: Access,
        ready: SchemaOnFirstConnection | None,
        extra_queries: Sequence[type] = (),
    ) -> None:
        production = graph.settings.production
        super().__init__(
            make_schema(graph.settings, extra_queries),
            graphql_ide=None if production else "graphiql",
            multipart_uploads_enabled=True,
        )
        self.graph = graph
        # every request's kg reads share these threads (Settings.api_threads), not anyio's default 40
        self.limiter = anyio.CapacityLimiter(graph.settings.api_threads)
        # patient answers asked again before the database commits anything (kg/answer_cache.py)
        self.answers = AnswerCache(graph.settings.answer_cache) if graph.settings.answer_cache else None
        self.metrics = metrics
        if self.answers is not None:
            metrics.watch_answer_cache(self.answers)
        self.access = access
        self.ready = ready

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
        state = request.state
        return Context(
            self.graph,
            access=self.access,
            identity=getattr(state, "identity", None),
            request_id=getattr(state, "request_id", None),
            ready=self.ready.ensure if self.ready else None,
            limiter=self.limiter,
            answers=self.answers,
        )

    def encode_json(self, data: object) -> bytes:
        """orjson, not ``json.dumps``: a patient summary's 168 kB in 0.25 ms instead of 1.84 ms (the same
        JSON, non-ASCII characters as UTF-8 rather than ``\\u`` escapes; RFC 8259 allows both)."""
        return orjson.dumps(data)

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """HTTP 401 (with a Bearer challenge) when a field refused an unauthenticated caller."""
        errors = response_data.get("errors") if isinstance(response_data, dict) else None
        if any((e.get("extensions") or {}).get("code") == UNAUTHENTICATED for e in errors or ()):
            sub_response.status_code = 401
            sub_response.headers["WWW-Authenticate"] = CHALLENGE
        return super().create_response(response_data, sub_response)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Every error a response carries (masked ones included) counts under its code."""
        for error in result.errors or ():
            self.metrics.graphql_errors.labels(code_of(error)).inc()
        return await super().process_result(request, result)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from the app's own assets (strawberry's page loads them from a CDN), with the
        clinical questions preloaded (api.browser)."""
        return HTMLResponse(browser.graphiql_html())


def create_app(
    settings: Settings | None = None,
    *,
    auth: AuthSettings | None = None,
    apply_schema_on_start: bool = True,
    extra_queries: Sequence[type] = (),
) -> Starlette:
    """The app over ``settings``' Neo4j; ``auth`` defaults to AuthSettings.from_env (README "Access");
    ``extra_queries`` as api.schema.make_schema takes them (benchmarks only).
    The service starts whether or not Neo4j is reachable: /health says down (503), queries answer
    UNAVAILABLE, and the first request that finds Neo4j back applies the schema and is answered."""
    graph = Graph(settings or Settings.from_env())
    access = Access.of(auth or AuthSettings.from_env(graph.settings))
    ready = SchemaOnFirstConnection(graph) if apply_schema_on_start else None

    async def health(request: Request) -> Response:
        """Up or down, never where: no URI, host or port of the database (anonymous may call it)."""
        up = await anyio.to_thread.run_sync(graph.is_reachable)
        body = {"status": "ok" if up else "degraded", "neo4j": "up" if up else "down"}
        return JSONResponse(body, status_code=200 if up else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if ready is not None and await anyio.to_thread.run_sync(graph.is_reachable):
            await anyio.to_thread.run_sync(ready.ensure)
        yield
        graph.close()

    async def metrics_endpoint(request: Request) -> Response:
        identity = route_identity(request, P.READ_METRICS)
        return await metrics.endpoint(request) if isinstance(identity, Identity) else identity

    metrics = Metrics()
    graphql = KgGraphQL(graph, metrics, access, ready, extra_queries)
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/metrics", metrics_endpoint),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/export", export_endpoint),
            *DOCUMENT_ROUTES,
            Route("/explore", browser.explore_page),
            Mount("/static/app", app=browser.app_files(), name="app-static"),
            Mount("/static/vendor", app=browser.vendor_files(), name="vendor"),
        ],
        middleware=[
            Middleware(MetricsMiddleware, metrics=metrics),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(graph.settings.allowed_hosts)),
            Middleware(AuthMiddleware, access=access),
            Middleware(RequestGuard, settings=graph.settings, metrics=metrics),
        ],
        lifespan=lifespan,
    )
    app.state.metrics = metrics
    app.state.graph = graph
    app.state.access = access
    app.state.ready = ready
    return app


def serve(app: Starlette, host: str, port: int) -> None:
    """Run ``app`` under uvicorn as the service runs it (``kg serve``; bench/api_floor.py measures the same):
    uvloop's event loop and httptools' HTTP parser, both in C, rather than asyncio's loop and h11 in Python.
    Measured on loopback (issue 12): ``{ __typename }`` 2.52 -> 2.22 ms, one drug's answer 10.4 -> 9.9 ms."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="info", loop="uvloop", http="httptools")
