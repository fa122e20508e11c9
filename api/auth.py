"""Who is calling, and may they: the bearer credential verified once per request, checked per field.

``AuthMiddleware`` (pure ASGI) verifies ``Authorization: Bearer <JWT or API key>`` (or ``X-API-Key``)
with kg.access.tokens.Verifier and stores the caller for everything downstream:

- ``request.state.identity`` (``scope["state"]["identity"]``): a kg.access.roles.Identity, or None when
  no credential came and anonymous access is off (KG_AUTH_ANONYMOUS). Rate limits and any other
  middleware placed inside this one read it there.
- ``request.state.request_id``: the caller's ``X-Request-ID`` when it is a sane token, else a new one;
  echoed in the response header and written to every audit entry.

A credential that does not verify is refused at once: 401 with ``WWW-Authenticate: Bearer
error="invalid_token"`` and code UNAUTHENTICATED (an issuer whose keys cannot be fetched: 503
UNAVAILABLE). Then every resolver states the permission it needs with ``needs(Permission.X)``
(strawberry permission classes; the rule table is kg/access/roles.py): no identity is UNAUTHENTICATED
(HTTP 401), a role without the permission FORBIDDEN. HTTP routes use ``route_identity``.
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.permission import BasePermission
from strawberry.types import Info

from api.errors import coded_error
from kg.access.audit import AuditLog
from kg.access.roles import Identity, Permission, anonymous
from kg.access.settings import AuthSettings
from kg.access.tokens import Unauthenticated, Verifier, VerifierUnavailable

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
CHALLENGE = 'Bearer realm="precision-kg"'

#: Permissions whose refusals are audited too (a write, or an attempt at patient data).
AUDITED_REFUSALS = frozenset(
    {
        Permission.READ_PATIENT,
        Permission.WRITE_PATIENT,
        Permission.DELETE_PATIENT,
        Permission.SUBMIT_EVIDENCE,
        Permission.MODERATE_EVIDENCE,
        Permission.MANAGE_TOKENS,
        Permission.READ_AUDIT,
    }
)


@dataclass
class Access:
    """What the app knows about access: settings, the verifier and the audit log (on app.state.access)."""

    settings: AuthSettings
    verifier: Verifier
    audit: AuditLog

    @classmethod
    def of(cls, settings: AuthSettings) -> Access:
        return cls(settings=settings, verifier=Verifier(settings), audit=AuditLog(settings.audit_log))


def _credential(scope: Scope) -> str | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "").strip()
    if auth:
        scheme, _, value = auth.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else ""
    key = headers.get("x-api-key", "").strip()
    return key or None


def _request_id(scope: Scope) -> str:
    for k, v in scope.get("headers", []):
        if k.lower() == b"x-request-id":
            text = v.decode("latin-1").strip()
            if _REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


def refusal(path: str, status: int, code: str, message: str, *, invalid_token: bool = False) -> Response:
    """A 401/403/503 in the shape the route speaks: GraphQL errors on /graphql, else error + code.
    A 401 carries the Bearer challenge (RFC 6750 section 3), with ``error="invalid_token"`` when a
    credential came and failed."""
    body: dict[str, Any] = (
        {"errors": [{"message": message, "extensions": {"code": code}}]}
        if path == "/graphql"
        else {"error": message, "code": code}
    )
    challenge = f'{CHALLENGE}, error="invalid_token"' if invalid_token else CHALLENGE
    headers = {"WWW-Authenticate": challenge} if status == 401 else {}
    return JSONResponse(body, status_code=status, headers=headers)


class AuthMiddleware:
    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        credential = _credential(scope)
        identity: Identity | None
        if credential is None:
            identity = anonymous() if self.access.settings.anonymous else None
        else:
            try:
                if not credential:
                    raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
                identity = self.access.verifier.verify(credential)
            except Unauthenticated as err:
                response = refusal(scope["path"], 401, UNAUTHENTICATED, str(err), invalid_token=True)
                await response(scope, receive, _with_id(send, request_id))
                return
            except VerifierUnavailable as err:
                await refusal(scope["path"], 503, "UNAVAILABLE", str(err))(scope, receive, _with_id(send, request_id))
                return
        state["identity"] = identity
        await self.app(scope, receive, _with_id(send, request_id))


def _with_id(send: Send, request_id: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
        await send(message)

    return wrapped


# --- GraphQL ---------------------------------------------------------------------------------


def unauthenticated() -> GraphQLError:
    return coded_error("authentication required: send Authorization: Bearer <token> (kg token create)", UNAUTHENTICATED)


def forbidden(message: str) -> GraphQLError:
    return coded_error(message, FORBIDDEN)


def require(info: Info[Any, None], permission: Permission) -> Identity:
    """The caller, if they hold ``permission``; UNAUTHENTICATED / FORBIDDEN otherwise (refusals of
    AUDITED_REFUSALS permissions are written to the audit log)."""
    ctx = info.context
    identity: Identity | None = ctx.identity
    if identity is None:
        raise unauthenticated()
    if not identity.can(permission):
        if permission in AUDITED_REFUSALS:
            ctx.audit(info.field_name, outcome="denied", detail={"needs": permission.name})
        raise forbidden(f"{identity.role.value} may not {permission.value}")
    return identity


def require_patient(info: Info[Any, None], permission: Permission, patient_id: str) -> Identity:
    """``require`` and a grant for ``patient_id`` (the refusal audited)."""
    identity = require(info, permission)
    if not identity.may_read(patient_id):
        info.context.audit(info.field_name, patients=[patient_id], outcome="denied")
        raise forbidden(f"{identity.subject} holds no grant for patient {patient_id!r}")
    return identity


@functools.cache
def needs(permission: Permission) -> type[BasePermission]:
    """The strawberry permission class of ``permission``: ``@strawberry.field(permission_classes=[needs(P.X)])``."""

    class Needs(BasePermission):
        message = f"needs permission to {permission.value}"

        def has_permission(self, source: Any, info: Info[Any, None], **kwargs: Any) -> bool:
            require(info, permission)
            return True

    Needs.__name__ = Needs.__qualname__ = f"Needs{permission.name.title().replace('_', '')}"
    Needs.permission = permission  # type: ignore[attr-defined]
    return Needs


# --- plain HTTP routes -----------------------------------------------------------------------


def route_identity(request: Request, permission: Permission) -> Identity | Response:
    """The caller of an HTTP route if they hold ``permission``, else the 401/403 response to send."""
    identity: Identity | None = request.state.identity
    if identity is None:
        return refusal(
            request.url.path, 401, UNAUTHENTICATED, "authentication required: send Authorization: Bearer <token>"
        )
    if not identity.can(permission):
        return refusal(request.url.path, 403, FORBIDDEN, f"{identity.role.value} may not {permission.value}")
    return identity
