"""Per-request context: the shared Graph, the caller, and a way to run kg's blocking calls off the loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio.to_thread
import neo4j.exceptions

from api.errors import coded_error, unavailable, unresolved
from kg.access.roles import Identity, Role
from kg.answer_cache import AnswerCache
from kg.db import Graph, GraphUnavailable, QueryTimeout
from kg.queries.bounds import QueryTooBroad
from kg.queries.resolve import Unresolved
from kg.queries.visibility import KnowledgeState, UnknownKnowledgeState, knowledge_state

if TYPE_CHECKING:
    from api.auth import Access

T = TypeVar("T")


@dataclass
class Context:
    graph: Graph
    access: Access | None = None
    identity: Identity | None = None  # None: unauthenticated (api/auth.py)
    request_id: str | None = None
    # called before each kg function: applies the schema once Neo4j is first reachable (api.app)
    ready: Callable[[], bool] | None = None
    # knowledge states asked in this request, by asOf: worked out once, reused by every answer (issue 8)
    states: dict[str, KnowledgeState] = field(default_factory=dict)
    # answers a parent resolver started ahead of its fields (api/patients.py), by (kg function, its
    # arguments): each taken once by the field that asks for exactly that (``answer``)
    prefetched: dict[tuple[Hashable, ...], asyncio.Future[Any]] = field(default_factory=dict)
    # the app's bound on threads running kg functions at once (``Settings.api_threads``); None: anyio's default
    limiter: anyio.CapacityLimiter | None = None
    # answers kept while the database commits nothing (kg/answer_cache.py); None: every answer is read
    answers: AnswerCache | None = None

    async def state(self, as_of: str | None) -> KnowledgeState | None:
        """The knowledge state an ``asOf`` argument names, once per request; None (no asOf) is the current
        knowledge, which the visibility predicates read without a round trip (kg.queries.visibility)."""
        if as_of is None or not as_of.strip():
            return None
        if as_of not in self.states:
            self.states[as_of] = await self.run(knowledge_state, as_of)
        return self.states[as_of]

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a kg function (sync driver) in a worker thread, its errors the API's (``kg_errors``)."""

        def call() -> T:
            if self.ready is not None:
                self.ready()
            return fn(self.graph, *args, **kwargs)

        with kg_errors():
            return await anyio.to_thread.run_sync(call, limiter=self.limiter)

    async def kept(self, fn: Callable[..., T], *args: Any) -> T:
        """``run(fn, *args)``, or the answer kept for the same call in the state the database is in now
        (kg.answer_cache; one empty read to find that state, in the same worker thread)."""
        answers = self.answers
        if answers is None:
            return await self.run(fn, *args)

        def read(graph: Graph) -> T:
            return answers.answer((fn, *args), graph.committed(), lambda: fn(graph, *args), graph.committed)

        return await self.run(read)

    def prefetch(self, key: tuple[Hashable, ...], answer: Awaitable[Any]) -> asyncio.Future[Any]:
        """Start ``answer`` now (usually ``run(fn, ...)``), for the field that asks ``key`` to take
        (``answer``). One nobody takes (the parent failed, or a directive skipped the field) is dropped
        with the request, its outcome read so that no error goes unretrieved."""
        task = asyncio.ensure_future(answer)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        self.prefetched[key] = task
        return task

    async def drop_prefetched(self) -> None:
        """Wait for the answers started ahead that no field will take (their parent failed or found no one),
        then drop them: none is left reading on the graph's connections after the response is sent (a server
        shutting down closes the driver under it)."""
        pending = list(self.prefetched.values())
        self.prefetched.clear()
        if pending:
            await asyncio.wait(pending)

    async def answer(self, key: tuple[Hashable, ...], fn: Callable[..., T], *args: Any) -> T:
        """The answer prefetched under ``key`` (taken once), else ``fn(graph, *args)`` now (``kept``);
        either way with ``run``'s errors."""
        pending = self.prefetched.pop(key, None)
        if pending is None:
            return await self.kept(fn, *args)
        with kg_errors():
            return cast(T, await pending)

    def audit_soon(
        self, operation: str, *, patients: Sequence[str] = (), outcome: str = "ok", detail: dict[str, Any] | None = None
    ) -> asyncio.Future[None]:
        """``audit`` in a worker thread, started now: the caller awaits it before it returns any data
        (an audit that fails then fails the field, and nothing is returned unaudited)."""
        write = anyio.to_thread.run_sync(
            lambda: self.audit(operation, patients=patients, outcome=outcome, detail=detail)
        )
        task = asyncio.ensure_future(write)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    def audit(
        self,
        operation: str,
        *,
        patients: Sequence[str] = (),
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """One audit entry for this request's caller (kg/access/audit.py)."""
        if self.access is None:
            raise RuntimeError("no audit log configured")
        who = self.identity or Identity(subject="unauthenticated", role=Role.ANONYMOUS)
        self.access.audit.append(
            who, operation, patients=patients, request=self.request_id, outcome=outcome, detail=detail
        )


@contextlib.contextmanager
def kg_errors() -> Iterator[None]:
    """kg's exceptions as the API's coded errors: an unreachable graph is UNAVAILABLE, an argument
    naming no entity or several (kg.queries.resolve) BAD_INPUT with the candidates, an unknown asOf
    BAD_INPUT, a traversal past its bound (kg.queries.bounds) QUERY_TOO_BROAD and any other query
    stopped at Neo4j's transaction timeout TIMEOUT; anything else passes."""
    try:
        yield
    except Unresolved as err:
        raise unresolved(err) from err
    except UnknownKnowledgeState as err:
        raise coded_error(str(err), "BAD_INPUT") from err
    except QueryTooBroad as err:
        raise coded_error(str(err), "QUERY_TOO_BROAD") from err
    except QueryTimeout as err:
        raise coded_error("the query took longer than the server allows; narrow it", "TIMEOUT") from err
    except (GraphUnavailable, neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired) as err:
        raise unavailable("the knowledge graph is unavailable; try again shortly") from err
