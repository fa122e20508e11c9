"""Apply the model's constraints and indexes; ``IF NOT EXISTS`` makes it safe to repeat."""

from __future__ import annotations

import threading

from kg.db import Graph, GraphUnavailable
from kg.schema.model import FULLTEXT_INDEXES, NODE_KEYS, PATIENT_NODE_KEYS, RANGE_INDEXES


def schema_statements() -> list[str]:
    statements = [
        f"CREATE CONSTRAINT {label.lower()}_{key}_unique IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
        for label, key in {**NODE_KEYS, **PATIENT_NODE_KEYS}.items()
    ]
    statements += [
        f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
        for label, props in RANGE_INDEXES.items()
        for prop in props
    ]
    statements += [
        f"CREATE FULLTEXT INDEX {label.lower()}_fulltext IF NOT EXISTS FOR (n:{label}) "
        f"ON EACH [{', '.join('n.' + p for p in props)}]"
        for label, props in FULLTEXT_INDEXES.items()
    ]
    return statements


def apply_schema(graph: Graph) -> int:
    """Create what is missing and wait for the indexes to come online; returns statements run."""
    statements = schema_statements()
    for statement in statements:
        graph.write(statement)
    graph.write("CALL db.awaitIndexes(300)")
    return len(statements)


class SchemaOnFirstConnection:
    """Applies the schema the first time Neo4j is reachable, not only at start: a service started while
    Neo4j is down answers UNAVAILABLE and serves as soon as Neo4j is back, with its constraints and
    indexes in place. ``apply_schema`` is idempotent, so a second process doing the same is harmless."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.applied = False
        self._lock = threading.Lock()

    def ensure(self) -> bool:
        """Apply the schema if not yet done and Neo4j answers; True once applied. Never raises for an
        unreachable Neo4j: the caller's own query meets that (after checking its input), so a bad
        argument is still BAD_INPUT while Neo4j is down."""
        if self.applied:
            return True
        with self._lock:
            if not self.applied and self.graph.is_reachable():
                try:
                    apply_schema(self.graph)
                except GraphUnavailable:
                    return False
                self.applied = True
        return self.applied
