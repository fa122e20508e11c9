"""HTTP hygiene in front of every route (issue 9, "HTTP hygiene" and "Limits").

``RequestGuard`` is pure ASGI middleware. For each HTTP request it

- counts it against its identity's rate limit (api.limits; /health and /metrics are not counted):
  429 ``RATE_LIMITED`` with ``Retry-After``;
- on POST /graphql: a JSON body is read up to ``max_body_bytes`` (a larger one, or a larger
  Content-Length, is 413 ``PAYLOAD_TOO_LARGE``) and must be UTF-8 JSON of GraphQL-over-HTTP's shape
  (one object; ``query`` a string; ``variables`` and ``extensions`` objects; ``operationName`` a
  string), nested at most ``MAX_JSON_DEPTH`` deep, else 400 ``BAD_REQUEST``; a multipart body (file
  uploads) must carry ``Apollo-Require-Preflight`` or ``X-KG-Request``, headers no HTML form can
  send, so a browser makes a CORS preflight first and no cross-site form post gets through
  (400 ``PREFLIGHT_REQUIRED``), and is counted while it streams, 413 past ``max_upload_bytes``;
  any other content type is 400 ``BAD_REQUEST``.

Every refusal is JSON ``{"error": ..., "code": ...}`` (the format of /export's refusals) and is
counted in ``kg_http_errors_total{code}``. Allowed hosts are Starlette's TrustedHostMiddleware (app.py).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import RateLimiter, rate_key
from api.metrics import Metrics
from kg.config import Settings

MAX_JSON_DEPTH = 32  # GraphQL variables nest input objects a few levels, never this deep
UNCOUNTED = frozenset({"/health", "/metrics"})
PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-kg-request")
_OPERATION_KEYS = {"query": (str,), "variables": (dict,), "operationName": (str,), "extensions": (dict,)}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def refusal(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one shape of an HTTP-level refusal."""
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, iteratively (no recursion on hostile input)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def check_operation_body(body: bytes) -> None:
    """A GraphQL-over-HTTP JSON body as this server accepts it, or :class:`Refused` saying why not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise Refused(400, "BAD_REQUEST", f"the body is not UTF-8 (byte {err.start})") from err
    try:
        data = json.loads(text)
    except RecursionError as err:
        raise Refused(400, "BAD_REQUEST", f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels") from err
    except ValueError as err:
        raise Refused(400, "BAD_REQUEST", f"the body is not JSON: {err}") from err
    if not isinstance(data, dict):
        raise Refused(
            400, "BAD_REQUEST", f"the body must be one JSON object {{query, variables}}, found {type(data).__name__}"
        )
    if _depth(data) > MAX_JSON_DEPTH:
        raise Refused(400, "BAD_REQUEST", f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(data.get("query"), str) or not data["query"].strip():
        raise Refused(400, "BAD_REQUEST", "the body must carry the GraphQL document as a non-empty string `query`")
    for key, types in _OPERATION_KEYS.items():
        if data.get(key) is not None and not isinstance(data[key], types):
            raise Refused(400, "BAD_REQUEST", f"`{key}` must be {'a string' if types == (str,) else 'an object'}")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings, metrics: Metrics) -> None:
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.limiter = RateLimiter(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            self._rate(scope)
            if scope["path"] == "/graphql" and scope["method"] == "POST":
                receive = await self._graphql_body(scope, receive)
            await self.app(scope, receive, send)
        except Refused as err:
            self.metrics.http_errors.labels(err.code).inc()
            await refusal(err.status, err.code, err.message, err.headers)(scope, receive, send)

    def _rate(self, scope: Scope) -> None:
        if scope["path"] in UNCOUNTED:
            return
        key = rate_key(scope)
        if not self.limiter.allow(key):
            wait = self.limiter.retry_after(key)
            raise Refused(
                429,
                "RATE_LIMITED",
                f"more than {self.settings.rate_limit} requests; try again in {wait} s",
                {"Retry-After": str(wait)},
            )

    async def _graphql_body(self, scope: Scope, receive: Receive) -> Receive:
        kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            if not any(_header(scope, h) for h in PREFLIGHT_HEADERS):
                raise Refused(
                    400,
                    "PREFLIGHT_REQUIRED",
                    "a multipart request must carry the header Apollo-Require-Preflight or X-KG-Request",
                )
            return self._counted(scope, receive, self.settings.max_upload_bytes)
        if kind != "application/json":
            raise Refused(
                400,
                "BAD_REQUEST",
                f"POST /graphql takes application/json (or multipart/form-data), found {kind or 'none'}",
            )
        body = await self._read(scope, receive, self.settings.max_body_bytes)
        check_operation_body(body)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay

    @staticmethod
    def _declared(scope: Scope, limit: int) -> None:
        length = _header(scope, b"content-length")
        if length is not None and length.strip().isdigit() and int(length) > limit:
            raise Refused(413, "PAYLOAD_TOO_LARGE", f"the body is larger than {limit} bytes")

    async def _read(self, scope: Scope, receive: Receive, limit: int) -> bytes:
        self._declared(scope, limit)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                raise Refused(400, "BAD_REQUEST", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Refused(413, "PAYLOAD_TOO_LARGE", f"the body is larger than {limit} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)

    def _counted(self, scope: Scope, receive: Receive, limit: int) -> Receive:
        """``receive`` that refuses a streamed body past ``limit`` bytes (the upload, compressed)."""
        self._declared(scope, limit)
        size = 0

        async def counted() -> Message:
            nonlocal size
            message = await receive()
            size += len(message.get("body", b""))
            if size > limit:
                raise Refused(413, "PAYLOAD_TOO_LARGE", f"the upload is larger than {limit} bytes")
            return message

        return counted
