"""The cost bound of research traversals (paths, neighbors, export, cohorts; issue 9).

Every traversal query runs with Neo4j's transaction timeout ``Settings.traversal_timeout``
(enforced by the server, which ends the transaction and frees what it held) besides the caps each
query carries itself (hub degree, expanded partial paths, node limits). A query stopped at its
bound is :class:`QueryTooBroad`, whose message says how to narrow it; the API answers it with the
code QUERY_TOO_BROAD.
"""

from __future__ import annotations

from typing import Any

from kg.db import Graph, QueryTimeout


class QueryTooBroad(Exception):
    """A traversal that would cost more than its bound; the message says how to narrow it."""

    def __init__(self, what: str, hint: str) -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what} is too broad to answer: {hint}")


def bounded_read(graph: Graph, cypher: str, *, what: str, hint: str, **params: Any) -> list[dict[str, Any]]:
    """``graph.read`` under the traversal timeout; past it, :class:`QueryTooBroad` with ``hint``."""
    seconds = graph.settings.traversal_timeout
    try:
        return graph.read(cypher, timeout_=seconds, **params)
    except QueryTimeout as err:
        raise QueryTooBroad(what, f"it did not finish within {seconds:g} s; {hint}") from err
