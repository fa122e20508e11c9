"""Per-request context: the shared Graph, and a way to run kg's blocking calls off the loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
import neo4j.exceptions

from api.errors import coded_error, unavailable, unresolved
from kg.db import Graph, GraphUnavailable, QueryTimeout
from kg.queries.bounds import QueryTooBroad
from kg.queries.resolve import Unresolved

T = TypeVar("T")


@dataclass
class Context:
    graph: Graph

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a kg function (sync driver) in a worker thread; map an unreachable graph to UNAVAILABLE and
        an argument naming no entity, or several (kg.queries.resolve), to BAD_INPUT with the candidates, a
        traversal past its bound (kg.queries.bounds) to QUERY_TOO_BROAD and any other query stopped at
        Neo4j's transaction timeout to TIMEOUT."""
        try:
            return await anyio.to_thread.run_sync(partial(fn, self.graph, *args, **kwargs))
        except Unresolved as err:
            raise unresolved(err) from err
        except QueryTooBroad as err:
            raise coded_error(str(err), "QUERY_TOO_BROAD") from err
        except QueryTimeout as err:
            raise coded_error("the query took longer than the server allows; narrow it", "TIMEOUT") from err
        except (GraphUnavailable, neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired) as err:
            raise unavailable("the knowledge graph is unavailable; try again shortly") from err
