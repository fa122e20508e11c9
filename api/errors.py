"""GraphQL errors with codes clients can act on: NOT_FOUND, BAD_INPUT, UNAVAILABLE, QUERY_TOO_BROAD
(a research traversal past its cost bound, kg.queries.bounds), TIMEOUT (any other query stopped at
Neo4j's transaction timeout).

Anything else is masked as INTERNAL (no stack trace leaves the server; it goes to the log). A query
that does not parse or validate (unknown field, over the depth or token limit) has no code in the
response; the metrics count it as GRAPHQL_VALIDATION.
"""

from __future__ import annotations

from graphql import GraphQLError

from kg.queries.resolve import Unresolved


def coded_error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def bad_input(message: str) -> GraphQLError:
    return coded_error(message, "BAD_INPUT")


def unresolved(err: Unresolved) -> GraphQLError:
    """BAD_INPUT for an argument that names no entity or several; ``candidates`` lists the several."""
    return GraphQLError(
        str(err),
        extensions={
            "code": "BAD_INPUT",
            "entity": err.entity,
            "query": err.query,
            "candidates": [{"id": c.id, "name": c.name, "matchedAs": c.matched_as} for c in err.candidates],
        },
    )


def not_found(message: str) -> GraphQLError:
    return coded_error(message, "NOT_FOUND")


def unavailable(message: str) -> GraphQLError:
    return coded_error(message, "UNAVAILABLE")


INTERNAL = "INTERNAL"
GRAPHQL_VALIDATION = "GRAPHQL_VALIDATION"


def internal(error: GraphQLError, message: str) -> GraphQLError:
    """``error`` masked: its place in the query kept, its message and cause replaced."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": INTERNAL},
    )


def code_of(error: GraphQLError) -> str:
    """The code an error (as it leaves the server) is counted under."""
    return str((error.extensions or {}).get("code") or GRAPHQL_VALIDATION)


def is_client_error(error: GraphQLError) -> bool:
    """Errors we raised on purpose, and GraphQL validation errors, are shown as they are."""
    original = error.original_error
    if original is None:
        return True  # parse / validation errors
    return isinstance(original, GraphQLError) and bool((original.extensions or {}).get("code"))
